import { startDemo, type RunningDemo } from './support/demo-app';
import { decode } from './support/forge';

describe('POST /auth/login', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo()));
  afterAll(() => demo.close());

  const login = (body: unknown) => demo.http.post('/auth/login').send(body as object);

  it('returns an access/refresh pair for valid credentials', async () => {
    const res = await login({ username: 'bob', password: 'bob-password' }).expect(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
    });
    expect(decode(res.body.access_token).payload).toMatchObject({
      sub: '2',
      roles: ['moderator'],
      username: 'bob',
    });
  });

  it('answers an unknown user and a wrong password identically', async () => {
    const unknown = await login({ username: 'mallory', password: 'bob-password' }).expect(401);
    const wrong = await login({ username: 'bob', password: 'not-bobs' }).expect(401);
    expect(unknown.body).toEqual({
      statusCode: 401,
      code: 'AUTH_INVALID_CREDENTIALS',
      message: 'Invalid username or password',
    });
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.headers['www-authenticate']).toEqual(unknown.headers['www-authenticate']);
  });

  it('refuses a disabled account like a wrong password', async () => {
    demo.users.update('bob', { active: false });
    try {
      const res = await login({ username: 'bob', password: 'bob-password' }).expect(401);
      expect(res.body.code).toBe('AUTH_INVALID_CREDENTIALS');
    } finally {
      demo.users.update('bob', { active: true });
    }
  });

  it.each([
    ['an empty body', undefined],
    ['a missing password', { username: 'bob' }],
    ['a missing username', { password: 'bob-password' }],
    ['a numeric password', { username: 'bob', password: 12345 }],
    ['an object username', { username: { $ne: null }, password: 'x' }],
    ['an empty username', { username: '', password: 'x' }],
    ['an unknown field', { username: 'bob', password: 'bob-password', admin: true }],
    ['a JSON array', [{ username: 'bob', password: 'bob-password' }]],
  ])('answers 400 with a clear message for %s', async (_name, body) => {
    const res = await login(body).expect(400);
    expect(res.body).toEqual({
      statusCode: 400,
      code: 'AUTH_REQUEST_INVALID',
      message: expect.any(String),
    });
    expect(res.body.message.length).toBeGreaterThan(0);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await demo.http
      .post('/auth/login')
      .set('Content-Type', 'application/json')
      .send('{"username": "bob",')
      .expect(400);
    expect(res.body).toEqual({
      statusCode: 400,
      code: 'AUTH_REQUEST_INVALID',
      message: 'The request body must be a well-formed JSON object',
    });
    expect(res.text).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('answers 400, not 500, for deeply nested JSON', async () => {
    for (const field of ['username', 'password']) {
      const body = `{"${field}":${'['.repeat(3000)}${']'.repeat(3000)}}`;
      const res = await demo.http
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('AUTH_REQUEST_INVALID');
    }
    const refresh = `{"refresh_token":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    await demo.http
      .post('/auth/refresh')
      .set('Content-Type', 'application/json')
      .send(refresh)
      .expect(400);
  });

  it('answers 415 for a form-encoded or plain-text body: only JSON is read', async () => {
    const form = await demo.http
      .post('/auth/login')
      .type('form')
      .send('username=bob&password=bob-password')
      .expect(415);
    const text = await demo.http
      .post('/auth/login')
      .set('Content-Type', 'text/plain')
      .send('bob:bob-password')
      .expect(415);
    for (const res of [form, text]) {
      expect(res.body).toEqual({
        statusCode: 415,
        code: 'REQUEST_UNSUPPORTED_MEDIA_TYPE',
        message: expect.stringContaining('application/json'),
      });
    }
  });
});
