import { cookieHeader, setCookies } from './support/cookies';
import { startDemo, type RunningDemo } from './support/demo-app';
import { decode } from './support/forge';

describe('cookie transport, Secure (the default)', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo({ TOKEN_LOCATION: 'cookies' })));
  afterAll(() => demo.close());

  it('sets HttpOnly, Secure, SameSite=Strict cookies with host prefixes, Max-Age per token, refresh scoped to its path', async () => {
    const res = await demo.http
      .post('/auth/login')
      .send({ username: 'alice', password: 'alice-password' })
      .expect(200);
    const cookies = setCookies(res);
    expect(cookies.get('__Host-tg_access')?.attributes.sort()).toEqual(
      ['HttpOnly', 'Max-Age=900', 'Path=/', 'SameSite=Strict', 'Secure'].sort(),
    );
    expect(cookies.get('__Secure-tg_refresh')?.attributes.sort()).toEqual(
      ['HttpOnly', 'Max-Age=604800', 'Path=/auth/refresh', 'SameSite=Strict', 'Secure'].sort(),
    );
    expect(cookies.get('__Host-tg_csrf')?.attributes.sort()).toEqual(
      ['Max-Age=604800', 'Path=/', 'SameSite=Strict', 'Secure'].sort(),
    );
    // Cookie-only mode: the body carries no token a script could read.
    expect(res.body).toEqual({
      token_type: 'Cookie',
      expires_in: 900,
      csrf_token: cookies.get('__Host-tg_csrf')?.value,
    });
    const access = cookies.get('__Host-tg_access')?.value ?? '';
    expect(decode(access).payload.sub).toBe('1');
  });

  it('ignores bearer headers when only cookies are configured', async () => {
    const res = await demo.http
      .post('/auth/login')
      .send({ username: 'bob', password: 'bob-password' });
    const access = setCookies(res).get('__Host-tg_access')?.value ?? '';
    expect(
      (await demo.http.get('/protected').set('Authorization', `Bearer ${access}`).expect(401)).body
        .code,
    ).toBe('AUTH_TOKEN_MISSING');
    await demo.http.get('/protected').set('Cookie', `__Host-tg_access=${access}`).expect(200);
  });
});

describe('cookie transport on plain-HTTP localhost (COOKIE_SECURE=false), cookies and headers', () => {
  let demo: RunningDemo;
  beforeAll(
    async () =>
      (demo = await startDemo({ TOKEN_LOCATION: 'headers,cookies', COOKIE_SECURE: 'false' })),
  );
  afterAll(() => demo.close());

  /** A cookie-authenticated POST carrying the CSRF token, as the demo page sends it. */
  const postWithCsrf = (path: string, jar: string, csrf: string) =>
    demo.http.post(path).set('Cookie', jar).set('X-CSRF-Token', csrf);

  async function login(username: 'alice' | 'bob' | 'carol' = 'alice') {
    const res = await demo.http
      .post('/auth/login')
      .send({ username, password: `${username}-password` })
      .expect(200);
    const cookies = setCookies(res);
    return {
      res,
      cookies,
      jar: cookieHeader(cookies, 'tg_access', 'tg_csrf'),
      csrf: cookies.get('tg_csrf')?.value ?? '',
    };
  }

  it('drops Secure and the prefixes, and returns the pair too when headers are allowed', async () => {
    const { res, cookies } = await login();
    expect(cookies.get('tg_access')?.attributes).not.toContain('Secure');
    expect([...cookies.keys()].sort()).toEqual(['tg_access', 'tg_csrf', 'tg_refresh']);
    expect(res.body).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
    });
  });

  it('authenticates GETs by cookie without a CSRF token', async () => {
    const { jar } = await login();
    await demo.http.get('/protected').set('Cookie', jar).expect(200);
  });

  it('refuses a cookie-authenticated POST without the CSRF token, or with a wrong one', async () => {
    const { jar, csrf } = await login();
    for (const header of [undefined, 'wrong', `${csrf}x`, csrf.toUpperCase()]) {
      const req = demo.http.post('/auth/logout-all').set('Cookie', jar);
      const res = await (header === undefined ? req : req.set('X-CSRF-Token', header)).expect(403);
      expect(res.body).toMatchObject({ statusCode: 403, code: 'AUTH_CSRF_INVALID' });
    }
    await demo.http.get('/protected').set('Cookie', jar).expect(200); // nothing happened
  });

  it('accepts the CSRF token from the cookie or from GET /auth/csrf-token, and clears cookies on logout', async () => {
    const { jar, csrf } = await login();
    const fetched = await demo.http.get('/auth/csrf-token').set('Cookie', jar).expect(200);
    expect(fetched.body).toEqual({ csrf_token: csrf });
    const res = await postWithCsrf('/auth/logout', jar, csrf).expect(200);
    const cleared = setCookies(res);
    for (const name of ['tg_access', 'tg_refresh', 'tg_csrf']) {
      expect(cleared.get(name)?.value).toBe('');
      expect(cleared.get(name)?.attributes.join(';')).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/);
    }
    expect(cleared.get('tg_refresh')?.attributes).toContain('Path=/auth/refresh');
    await demo.http.get('/protected').set('Cookie', jar).expect(401);
  });

  it('clears cookies on logout everywhere too', async () => {
    const { jar, csrf } = await login('carol');
    const res = await postWithCsrf('/auth/logout-all', jar, csrf).expect(200);
    expect(setCookies(res).get('tg_access')?.value).toBe('');
  });

  it('exempts requests authenticated by a bearer header from CSRF', async () => {
    const { res } = await login('bob');
    await demo.http
      .post('/auth/logout')
      .set('Authorization', `Bearer ${res.body.access_token}`)
      .expect(200);
  });

  it('refreshes from the refresh cookie with the CSRF token, rotating the cookies', async () => {
    const { cookies, csrf } = await login('bob');
    const refreshJar = cookieHeader(cookies, 'tg_refresh');
    expect(
      (await demo.http.post('/auth/refresh').set('Cookie', refreshJar).expect(403)).body.code,
    ).toBe('AUTH_CSRF_INVALID');
    const res = await postWithCsrf('/auth/refresh', refreshJar, csrf).expect(200);
    const rotated = setCookies(res);
    expect(rotated.get('tg_refresh')?.value).not.toBe(cookies.get('tg_refresh')?.value);
    expect(rotated.get('tg_access')?.value).not.toBe(cookies.get('tg_access')?.value);
    await demo.http.get('/protected').set('Cookie', cookieHeader(rotated, 'tg_access')).expect(200);
  });

  it('renews a cookie session in the cookie only, never in a header page scripts can read', async () => {
    const { jar, cookies } = await login('alice');
    demo.clock.advance(11 * 60);
    const res = await demo.http.get('/protected').set('Cookie', jar).expect(200);
    const renewed = setCookies(res).get('tg_access');
    expect(renewed?.value).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(renewed?.value).not.toBe(cookies.get('tg_access')?.value);
    expect(res.headers['x-new-token']).toBeUndefined();
    expect(renewed?.attributes).toEqual(
      expect.arrayContaining(['HttpOnly', 'Path=/', 'SameSite=Strict']),
    );
    demo.clock.advance(-11 * 60);
  });
});
