/**
 * The demo's one page, for cookie mode: log in, see who is logged in, call /admin/users,
 * refresh, log out. Plain HTML, and the script in its own file so a Content-Security-Policy
 * can forbid inline scripts. The page never sees a token: they live in HttpOnly cookies; it
 * reads only the CSRF cookie, which it sends back in X-CSRF-Token. In header mode it says so and
 * how to start cookie mode, and offers nothing to click: there, tokens travel in response bodies.
 */
export const pageHtml = (cookieMode: boolean): string => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>TokenGuard demo</title>
  <link rel="stylesheet" href="/demo.css">
</head>
<body>
  <main>
    <h1>TokenGuard demo</h1>
${cookieMode ? COOKIE_PAGE : HEADER_MODE_NOTICE}
  </main>
  <script src="/demo.js"></script>
</body>
</html>
`;

const HEADER_MODE_NOTICE = `    <p id="mode" class="notice">This page runs in cookie mode only, and the demo was started in
    header mode (<code>TOKEN_LOCATION=headers</code>, the default), where tokens travel in response
    bodies and the <code>Authorization</code> header: a page would have to hold them. Start the demo
    with <code>TOKEN_LOCATION=cookies COOKIE_SECURE=false npm run demo</code> to use this page, or
    call the API with curl as the README shows.</p>`;

const COOKIE_PAGE = `    <p id="who">Not logged in</p>
    <form id="login">
      <label>Username <input id="username" name="username" autocomplete="username" value="alice"></label>
      <label>Password <input id="password" name="password" type="password" autocomplete="current-password" value="alice-password"></label>
      <button id="login-button" type="submit">Log in</button>
    </form>
    <div class="actions">
      <button id="admin" type="button">GET /admin/users</button>
      <button id="refresh" type="button">Refresh</button>
      <button id="logout" type="button">Log out</button>
    </div>
    <pre id="result" aria-live="polite"></pre>
    <p class="note">Tokens travel in HttpOnly cookies; this page reads only the CSRF cookie.</p>`;

export const PAGE_CSS = `body { font: 16px/1.5 system-ui, sans-serif; background: #f5f6f8; color: #1c2330; }
main { max-width: 34rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 12px; box-shadow: 0 2px 12px #0001; }
h1 { margin-top: 0; font-size: 1.5rem; }
#who { font-weight: 600; }
form, .actions { display: flex; gap: .5rem; flex-wrap: wrap; align-items: end; margin: 1rem 0; }
label { display: flex; flex-direction: column; font-size: .85rem; }
input { padding: .4rem; border: 1px solid #c8ccd4; border-radius: 6px; }
button { padding: .45rem .9rem; border: 0; border-radius: 6px; background: #2f5bd3; color: #fff; cursor: pointer; }
pre { background: #10141c; color: #d7e0f0; padding: 1rem; border-radius: 8px; min-height: 3rem; white-space: pre-wrap; }
.note { color: #5b6475; font-size: .85rem; }
.notice { background: #fff6d6; padding: 1rem; border-radius: 8px; }
`;

export const PAGE_JS = `'use strict';
const $ = (id) => document.getElementById(id);
// Whatever the mode, no token is ever written into the page.
const shown = (data) => JSON.stringify(data, (key, value) => (/token$/.test(key) && key !== 'token_type' ? '(not shown)' : value), 2);
const csrf = () => {
  const cookie = document.cookie.split('; ').find((c) => /^(__Host-)?tg_csrf=/.test(c));
  return cookie ? decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)) : '';
};
async function call(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf();
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body && JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  $('result').textContent = method + ' ' + path + ' -> ' + res.status + '\\n' + shown(data);
  return { status: res.status, data };
}
async function whoami() {
  const res = await fetch('/protected', { credentials: 'same-origin' });
  const me = res.ok ? await res.json() : null;
  $('who').textContent = me ? 'Logged in as ' + me.username + ' (' + me.roles.join(', ') + ')' : 'Not logged in';
}
// In header mode the page is a notice: nothing to wire.
if ($('login')) {
$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  await call('POST', '/auth/login', { username: $('username').value, password: $('password').value });
  await whoami();
});
$('admin').addEventListener('click', () => call('GET', '/admin/users'));
$('refresh').addEventListener('click', async () => { await call('POST', '/auth/refresh'); await whoami(); });
$('logout').addEventListener('click', async () => { await call('POST', '/auth/logout'); await whoami(); });
whoami();
}
`;
