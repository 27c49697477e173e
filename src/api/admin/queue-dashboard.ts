import { Router } from 'express';
import type { Queue } from 'bullmq';
import { queueKindOf, shardNumberOf } from '../../shared/queues.js';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Logger } from '../../shared/logger.js';
import { HttpError } from '../errors.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

// The board's page loads its own fonts and sets inline styles; nothing else is loosened.
const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' https://fonts.gstatic.com",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * bull-board for the operators named in OPERATOR_USER_IDS (or OPERATOR_LOGINS): every queue, its
 * failed jobs with their errors, and retry. Mounted after the session, so `req.user` is the
 * viewer's Twitch user, if any.
 */
export function queueDashboard(deps: {
  queues: Queue[];
  operators: { userIds: ReadonlySet<string>; logins: ReadonlySet<string> };
  log: Logger;
}): Router {
  // A login can be renamed, and a freed login claimed by someone else; a user id never changes.
  if (deps.operators.logins.size) {
    deps.log.warn(
      { logins: [...deps.operators.logins] },
      'OPERATOR_LOGINS lets in whoever holds those Twitch logins now; logins can be renamed and reclaimed. Prefer OPERATOR_USER_IDS',
    );
  }
  const isOperator = (user: { id: string; login: string }) =>
    deps.operators.userIds.has(user.id) || deps.operators.logins.has(user.login.toLowerCase());

  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: deps.queues.map(
      (queue) => new BullMQAdapter(queue, { displayName: dashboardName(queue.name) }),
    ),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'streamfeed' } },
  });

  const router = Router();
  router.use((req, res, next) => {
    if (!req.user) {
      throw new HttpError(401, 'login_required', 'Log in with Twitch as an operator first');
    }
    if (!isOperator(req.user)) {
      deps.log.warn(
        { userId: req.user.id, login: req.user.login, path: req.originalUrl },
        `Refused the queue dashboard to ${req.user.login} (user id ${req.user.id}): not in OPERATOR_USER_IDS or OPERATOR_LOGINS`,
      );
      throw new HttpError(403, 'not_operator', 'The queue dashboard is for operators only');
    }
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.use(board.getRouter() as Router);
  return router;
}

/** `{eventPersist-3.12269}` reads "eventPersist, shard 3"; `{maintenance}` "maintenance". */
export function dashboardName(queueName: string): string {
  const shard = shardNumberOf(queueName);
  const kind = queueKindOf(queueName) ?? queueName;
  return shard === undefined ? kind : `${kind}, shard ${shard}`;
}
