import { startDemo, type DemoUsername, type RunningDemo } from './support/demo-app';

/** Every demo route against every demo user: who gets in, who gets 403. */
describe('routes and roles', () => {
  let demo: RunningDemo;
  const tokens = {} as Record<DemoUsername, string>;

  beforeAll(async () => {
    demo = await startDemo();
    for (const user of ['alice', 'bob', 'carol'] as const)
      tokens[user] = (await demo.login(user)).access_token;
  });
  afterAll(() => demo.close());

  it('serves /health to anyone', async () => {
    await demo.http.get('/health').expect(200, { status: 'ok' });
  });

  it.each([
    ['alice', '1', ['admin']],
    ['bob', '2', ['moderator']],
    ['carol', '3', ['user']],
  ] as const)('GET /protected answers %s with who they are', async (user, sub, roles) => {
    const res = await demo.http
      .get('/protected')
      .set('Authorization', `Bearer ${tokens[user]}`)
      .expect(200);
    expect(res.body).toEqual({ sub, username: user, roles });
  });

  it.each([
    ['/admin/users', 'alice', 200],
    ['/admin/users', 'bob', 403],
    ['/admin/users', 'carol', 403],
    ['/moderator/posts', 'alice', 200],
    ['/moderator/posts', 'bob', 200],
    ['/moderator/posts', 'carol', 403],
  ] as const)('GET %s as %s answers %i', async (path, user, status) => {
    const res = await demo.http
      .get(path)
      .set('Authorization', `Bearer ${tokens[user]}`)
      .expect(status);
    if (status === 403) {
      const required = path === '/admin/users' ? ['admin', 'super_admin'] : ['moderator', 'admin'];
      expect(res.body).toEqual({
        statusCode: 403,
        code: 'AUTH_ROLE_REQUIRED',
        message: `Requires one of the roles: ${required.join(', ')}`,
        required_roles: required,
      });
    }
  });

  it.each(['/protected', '/admin/users', '/moderator/posts'])(
    'GET %s without a token answers 401',
    async (path) => {
      expect((await demo.http.get(path).expect(401)).body.code).toBe('AUTH_TOKEN_MISSING');
    },
  );

  it('applies the roles the user has now, not those in the token', async () => {
    const { access_token } = await demo.login('alice');
    demo.users.update('alice', { roles: ['user'] });
    try {
      await demo.http
        .get('/admin/users')
        .set('Authorization', `Bearer ${access_token}`)
        .expect(403);
      const res = await demo.http
        .get('/protected')
        .set('Authorization', `Bearer ${access_token}`)
        .expect(200);
      expect(res.body.roles).toEqual(['user']);
    } finally {
      demo.users.update('alice', { roles: ['admin'] });
    }
    await demo.http.get('/admin/users').set('Authorization', `Bearer ${access_token}`).expect(200);
  });

  it.each(['/auth/logout', '/auth/logout-all'])('POST %s needs an access token', async (path) => {
    expect((await demo.http.post(path).expect(401)).body.code).toBe('AUTH_TOKEN_MISSING');
    const { access_token } = await demo.login('carol');
    await demo.http.post(path).set('Authorization', `Bearer ${access_token}`).expect(200);
  });
});
