import { startDemo, type RunningDemo } from './support/demo-app';

/** helmet's headers reach every kind of response: the page, JSON, a 401 and an unknown route. */
describe('security headers on every demo response', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo()));
  afterAll(() => demo.close());

  const responses: [string, () => Promise<{ status: number; headers: Record<string, string> }>][] =
    [
      ['GET / (the page)', () => demo.http.get('/').expect(200)],
      ['GET /demo.js', () => demo.http.get('/demo.js').expect(200)],
      ['GET /health', () => demo.http.get('/health').expect(200)],
      ['a 401 (no token)', () => demo.http.get('/protected').expect(401)],
      ['a 404 (unknown route)', () => demo.http.get('/no-such-route').expect(404)],
      [
        'a 400 from the JSON parser',
        () =>
          demo.http
            .post('/auth/login')
            .set('Content-Type', 'application/json')
            .send('{')
            .expect(400),
      ],
    ];

  it.each(responses)('%s', async (_name, send) => {
    const { headers } = await send();
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-xss-protection']).toBe('0');
    expect(headers['x-powered-by']).toBeUndefined();

    const hsts = headers['strict-transport-security'] ?? '';
    expect(hsts).toMatch(/(^|;\s*)includeSubDomains(;|$)/);
    expect(Number(/max-age=(\d+)/.exec(hsts)?.[1])).toBeGreaterThanOrEqual(365 * 24 * 60 * 60);

    const csp = parseCsp(headers['content-security-policy'] ?? '');
    expect(csp).toEqual({
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'"],
      'connect-src': ["'self'"],
      'frame-ancestors': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'self'"],
      'object-src': ["'none'"],
    });
  });

  it('serves the page with no inline script, style or event handler for the CSP to block', async () => {
    const { text } = await demo.http.get('/').expect(200);
    expect(text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i); // every script has a src
    expect(text).not.toMatch(/<style/i);
    expect(text).not.toMatch(/\sstyle=/i);
    expect(text).not.toMatch(/\son[a-z]+=/i);
    expect(text).not.toMatch(/javascript:/i);
  });

  it('says on the page, in header mode, that it needs cookie mode and how to start it, and offers no login', async () => {
    const { text } = await demo.http.get('/').expect(200);
    expect(text).toContain('TOKEN_LOCATION=cookies');
    expect(text).not.toMatch(/<form|<input/i);
    const cookieMode = await startDemo({ TOKEN_LOCATION: 'cookies', COOKIE_SECURE: 'false' });
    try {
      const page = (await cookieMode.http.get('/').expect(200)).text;
      expect(page).toMatch(/<form id="login">/);
      expect(page).not.toContain('TOKEN_LOCATION=cookies');
    } finally {
      await cookieMode.close();
    }
  });

  it('never writes a token into the page, whatever the mode (the script hides every *_token field)', async () => {
    const { text } = await demo.http.get('/demo.js').expect(200);
    expect(text).toContain('(not shown)');
    expect(text).not.toMatch(/JSON\.stringify\(data, null/);
  });

  it('keeps login, refresh and CSRF-token responses out of every cache', async () => {
    const login = await demo.http
      .post('/auth/login')
      .send({ username: 'alice', password: 'alice-password' })
      .expect(200);
    expect(login.headers['cache-control']).toBe('no-store');
    const refresh = await demo.http
      .post('/auth/refresh')
      .set('Authorization', `Bearer ${login.body.refresh_token}`)
      .expect(200);
    expect(refresh.headers['cache-control']).toBe('no-store');
    const csrf = await demo.http
      .get('/auth/csrf-token')
      .set('Authorization', `Bearer ${refresh.body.access_token}`)
      .expect(200);
    expect(csrf.headers['cache-control']).toBe('no-store');
  });
});

/** `a b; c d e` -> { a: [b], c: [d, e] } */
function parseCsp(header: string): Record<string, string[]> {
  const directives = header.split(';').map((directive) => directive.trim().split(/\s+/));
  return Object.fromEntries(
    directives.filter(([name]) => name).map(([name, ...values]) => [name ?? '', values]),
  );
}
