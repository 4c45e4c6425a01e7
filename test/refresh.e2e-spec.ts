import { startDemo, type RunningDemo } from './support/demo-app';
import { decode, resign } from './support/forge';

describe('POST /auth/refresh', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo()));
  afterAll(() => demo.close());

  const refreshWithHeader = (token: string) =>
    demo.http.post('/auth/refresh').set('Authorization', `Bearer ${token}`);

  it('exchanges a refresh token sent as a bearer header for a new pair in the same session', async () => {
    const first = await demo.login('alice');
    const res = await refreshWithHeader(first.refresh_token).expect(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
    });
    const before = decode(first.access_token).payload;
    const after = decode(res.body.access_token).payload;
    expect(after.sid).toBe(before.sid);
    expect(after.jti).not.toBe(before.jti);
    expect(decode(res.body.refresh_token).payload.jti).not.toBe(
      decode(first.refresh_token).payload.jti,
    );
    await demo.http
      .get('/protected')
      .set('Authorization', `Bearer ${res.body.access_token}`)
      .expect(200);
  });

  it('accepts the refresh token in a JSON body', async () => {
    const { refresh_token } = await demo.login('bob');
    const res = await demo.http.post('/auth/refresh').send({ refresh_token }).expect(200);
    expect(decode(res.body.access_token).payload.sub).toBe('2');
  });

  it('re-reads the user: a disabled account cannot refresh', async () => {
    const { refresh_token } = await demo.login('carol');
    demo.users.update('carol', { active: false });
    try {
      const res = await refreshWithHeader(refresh_token).expect(401);
      expect(res.body.code).toBe('AUTH_USER_INACTIVE');
    } finally {
      demo.users.update('carol', { active: true });
    }
  });

  it('refuses an access token', async () => {
    const { access_token } = await demo.login('alice');
    const res = await refreshWithHeader(access_token).expect(401);
    expect(res.body).toEqual({
      statusCode: 401,
      code: 'AUTH_TOKEN_WRONG_TYPE',
      message: expect.any(String),
    });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    await demo.http.post('/auth/refresh').send({ refresh_token: access_token }).expect(401);
  });

  it('refuses an access token relabelled with the refresh typ header', async () => {
    const { access_token } = await demo.login('alice');
    const relabelled = resign(access_token, demo.secret, (_c, h) => (h.typ = 'rt+jwt'));
    expect((await refreshWithHeader(relabelled).expect(401)).body.code).toBe(
      'AUTH_TOKEN_WRONG_TYPE',
    );
  });

  it('refuses an expired refresh token', async () => {
    const { refresh_token } = await demo.login('alice');
    demo.clock.advance(7 * 24 * 3600 + 30);
    try {
      expect((await refreshWithHeader(refresh_token).expect(401)).body.code).toBe(
        'AUTH_TOKEN_EXPIRED',
      );
    } finally {
      demo.clock.advance(-(7 * 24 * 3600 + 30));
    }
  });

  it('refuses a missing, malformed or ill-typed refresh token', async () => {
    expect((await demo.http.post('/auth/refresh').expect(401)).body.code).toBe(
      'AUTH_TOKEN_MISSING',
    );
    expect((await refreshWithHeader('garbage').expect(401)).body.code).toBe('AUTH_TOKEN_MALFORMED');
    const res = await demo.http.post('/auth/refresh').send({ refresh_token: 42 }).expect(400);
    expect(res.body.code).toBe('AUTH_REQUEST_INVALID');
  });
});
