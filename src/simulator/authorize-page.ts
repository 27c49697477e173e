import type { SimUser } from './sim-state.js';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/**
 * The consent page: plain HTML forms, no script, so it works with JavaScript off. Every value
 * interpolated is escaped. It posts back to the same URL with the query echoed as hidden fields.
 */
export function authorizePage(options: {
  params: Record<string, string>;
  users: SimUser[];
  scopes: string[];
  error?: string | undefined;
}): string {
  const hidden = Object.entries(options.params)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join('');
  const users = options.users
    .map(
      (u, i) =>
        `<label><input type="radio" name="login" value="${escape(u.login)}"${i === 0 ? ' checked' : ''}> ` +
        `${escape(u.displayName)} (${escape(u.login)})</label><br>`,
    )
    .join('');
  const scopes = options.scopes.length
    ? options.scopes.map((s) => `<li><code>${escape(s)}</code></li>`).join('')
    : '<li>nothing beyond your public profile</li>';
  const error = options.error ? `<p role="alert">${escape(options.error)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Twitch (simulated): authorize</title></head>
<body><main><h1>Twitch simulator</h1>
<p>The application <code>${escape(options.params.client_id ?? '')}</code> asks to use your account. It will see:</p>
<ul>${scopes}</ul>
${error}
<form method="post">${hidden}<fieldset><legend>Log in as</legend>${users}
<label>or a new user: <input name="new_login" pattern="[A-Za-z0-9_]{4,25}" maxlength="25" placeholder="new_login"></label></fieldset>
<button name="decision" value="approve">Authorize</button>
<button name="decision" value="deny" formnovalidate>Cancel</button></form></main></body></html>`;
}
