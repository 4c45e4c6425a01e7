import { startDemo, type RunningDemo } from './support/demo-app';
import { deleteKeys, describeWithRedis, REDIS_URL, testPrefix } from './support/redis';
import { TcpProxy, type ProxyMode } from './support/tcp-proxy';

const TIMEOUT_MS = 500;

/**
 * The demo on cache-manager (@keyv/redis) behind a proxy that can cut Redis off or hang it:
 * every call that needs the store answers 503 with Retry-After within the timeout, never 200 for
 * a revoked token, and the app recovers alone with nothing lost.
 */
describeWithRedis.each<[string, ProxyMode]>([
  ['cut connections', 'cut'],
  ['a server that accepts and never answers', 'blackhole'],
])('cache-manager store outage: %s', (_name, mode) => {
  const prefix = testPrefix();
  let proxy: TcpProxy;
  let demo: RunningDemo;

  beforeAll(async () => {
    proxy = await TcpProxy.start(Number(new URL(REDIS_URL).port || 6379));
    demo = await startDemo({
      REDIS_URL: proxy.url,
      REVOCATION_STORE: 'cache-manager',
      REDIS_KEY_PREFIX: prefix,
      REVOCATION_TIMEOUT_MS: String(TIMEOUT_MS),
    });
  });
  afterAll(async () => {
    await demo.close();
    await proxy.close();
    await deleteKeys(prefix);
  });

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  it('answers 503 with Retry-After while the store is away, and recovers with nothing lost', async () => {
    const revoked = await demo.login('alice');
    const live = await demo.login('bob');
    await demo.http.post('/auth/logout').set(bearer(revoked.access_token)).expect(200);
    await demo.http.get('/health/ready').expect(200);

    proxy.set(mode);
    // A bound on each whole request, so a hang fails the test instead of stalling it.
    const bound = { response: 5_000 };
    const calls = {
      guarded: () => demo.http.get('/protected').set(bearer(live.access_token)).timeout(bound),
      revoked: () => demo.http.get('/protected').set(bearer(revoked.access_token)).timeout(bound),
      login: () =>
        demo.http
          .post('/auth/login')
          .send({ username: 'carol', password: 'carol-password' })
          .timeout(bound),
      refresh: () =>
        demo.http.post('/auth/refresh').send({ refresh_token: live.refresh_token }).timeout(bound),
      logout: () => demo.http.post('/auth/logout').set(bearer(live.access_token)).timeout(bound),
    };
    for (const [name, call] of Object.entries(calls)) {
      const res = await call();
      expect({ name, status: res.status, code: res.body.code }).toEqual({
        name,
        status: 503,
        code: 'AUTH_STORE_UNAVAILABLE',
      });
      expect(res.headers['retry-after']).toBe('1');
    }
    expect((await demo.http.get('/health/ready')).status).toBe(503);
    await demo.http.get('/health').expect(200); // liveness stays up

    proxy.set('pass');
    // The client reconnects by itself; the first calls may still see it reconnecting.
    const deadline = Date.now() + 10_000;
    while ((await demo.http.get('/health/ready')).status !== 200) {
      if (Date.now() > deadline) throw new Error('the store did not come back');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Nothing lost: the logout before the outage still holds, the live session still works.
    expect((await calls.revoked()).body.code).toBe('AUTH_TOKEN_REVOKED');
    await calls.guarded().expect(200);
    await demo.http.post('/auth/refresh').send({ refresh_token: live.refresh_token }).expect(200);
  });
});
