import { startDemo, type RunningDemo } from './support/demo-app';
import { resign } from './support/forge';

/** A token seen before skips only its signature check: every other check still runs. */
describe('verified-token cache in JwtAuthGuard', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo()));
  afterAll(() => demo.close());
  beforeEach(() => demo.clock.advance(0.001));

  const get = (token: string) =>
    demo.http.get('/protected').set('Authorization', `Bearer ${token}`);
  const seen = async (username: 'alice' | 'bob' | 'carol') => {
    const pair = await demo.login(username);
    await get(pair.access_token).expect(200); // verified by passport-jwt, now cached
    await get(pair.access_token).expect(200); // served from the cache
    return pair;
  };

  it('refuses a cached token once it expires', async () => {
    const { access_token } = await seen('alice');
    demo.clock.advance(15 * 60 + 30);
    try {
      expect((await get(access_token).expect(401)).body.code).toBe('AUTH_TOKEN_EXPIRED');
    } finally {
      demo.clock.advance(-(15 * 60 + 30));
    }
  });

  it('refuses a cached token after logout', async () => {
    const { access_token } = await seen('bob');
    await demo.http.post('/auth/logout').set('Authorization', `Bearer ${access_token}`).expect(200);
    expect((await get(access_token).expect(401)).body.code).toBe('AUTH_TOKEN_REVOKED');
  });

  it('refuses a cached token once the user check says no, and applies current roles', async () => {
    const { access_token } = await seen('carol');
    demo.users.update('carol', { active: false });
    try {
      expect((await get(access_token).expect(401)).body.code).toBe('AUTH_USER_INACTIVE');
    } finally {
      demo.users.update('carol', { active: true });
    }
    demo.users.update('carol', { roles: ['admin'] });
    try {
      await demo.http
        .get('/admin/users')
        .set('Authorization', `Bearer ${access_token}`)
        .expect(200);
    } finally {
      demo.users.update('carol', { roles: ['user'] });
    }
  });

  it('does not let a changed token ride on a cached one', async () => {
    const { access_token } = await seen('alice');
    const [header, payload] = access_token.split('.');
    await get(`${header}.${payload}.${'A'.repeat(43)}`).expect(401);
    const other = resign(
      access_token,
      'not-the-secret-but-long-enough-to-sign-with!!',
      () => undefined,
    );
    expect((await get(other).expect(401)).body.code).toBe('AUTH_TOKEN_SIGNATURE_INVALID');
  });

  it('keeps refusing a refresh token on guarded routes however often it is sent', async () => {
    const { refresh_token } = await seen('bob');
    for (let i = 0; i < 3; i++)
      expect((await get(refresh_token).expect(401)).body.code).toBe('AUTH_TOKEN_WRONG_TYPE');
  });
});
