import type { SessionUser } from './session-user.js';

/** OPERATOR_USER_IDS or OPERATOR_LOGINS (lowercase): who runs this streamfeed. */
export function operatorCheck(operators: {
  userIds: ReadonlySet<string>;
  logins: ReadonlySet<string>;
}): (user: SessionUser) => boolean {
  return (user) => operators.userIds.has(user.id) || operators.logins.has(user.login.toLowerCase());
}
