import { randomBytes } from 'node:crypto';
import { startDemo, type RunningDemo } from './support/demo-app';
import { describeWithRedis, testPrefix } from './support/redis';
import { inCluster } from './support/redis-cluster';
import { behindSentinel, onRedis, type Shared } from './support/redis-sentinel';

/** Two app instances sharing one Redis and one signing key, as behind a load balancer. */
describeWithRedis.each([
  ['the Redis store', onRedis('redis')],
  ['cache-manager on @keyv/redis', onRedis('cache-manager')],
  ['the Redis store behind Sentinel', behindSentinel],
  ['the Redis store on a Redis Cluster', inCluster],
])('two instances sharing Redis through %s', (_name, shared: Shared) => {
  const prefix = testPrefix();
  let a: RunningDemo;
  let b: RunningDemo;
  let close: (prefix: string) => Promise<void>;

  beforeAll(async () => {
    const connection = await shared();
    close = connection.close;
    const env = {
      JWT_SECRET: randomBytes(48).toString('base64url'),
      REDIS_KEY_PREFIX: prefix,
      ...connection.env,
    };
    [a, b] = await Promise.all([startDemo(env), startDemo(env)]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await close(prefix);
  });
  beforeEach(() => [a, b].forEach((demo) => demo.clock.advance(0.001)));

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  it('refuses on B a session logged out on A', async () => {
    const { access_token, refresh_token } = await a.login('alice');
    await b.http.get('/protected').set(bearer(access_token)).expect(200);
    await a.http.post('/auth/logout').set(bearer(access_token)).expect(200);
    expect((await b.http.get('/protected').set(bearer(access_token)).expect(401)).body.code).toBe(
      'AUTH_TOKEN_REVOKED',
    );
    await b.http.post('/auth/refresh').set(bearer(refresh_token)).expect(401);
  });

  it('refuses on A every token of a user who logged out everywhere on B', async () => {
    const onA = await a.login('bob');
    const onB = await b.login('bob');
    a.clock.advance(0.001);
    b.clock.advance(0.001);
    await b.http.post('/auth/logout-all').set(bearer(onB.access_token)).expect(200);
    await a.http.get('/protected').set(bearer(onA.access_token)).expect(401);
    await a.http.get('/protected').set(bearer(onB.access_token)).expect(401);
  });

  it('gives 50 concurrent refreshes of one token, spread over both, one successor; a replay after the grace window ends the session', async () => {
    const { refresh_token } = await a.login('carol');
    const refresh = (demo: RunningDemo) =>
      demo.http.post('/auth/refresh').set(bearer(refresh_token));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => refresh(i % 2 ? a : b)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const pairs = new Set(results.map((r) => JSON.stringify(r.body)));
    expect(pairs.size).toBe(1); // HS256 signs the same claims the same: one pair, byte for byte
    const { access_token } = results[0]!.body as { access_token: string };
    await b.http.get('/protected').set(bearer(access_token)).expect(200);
    // Past the window (30 s by default), the replaced token is reuse: the session is over.
    [a, b].forEach((demo) => demo.clock.advance(31));
    expect((await refresh(b).expect(401)).body.code).toBe('AUTH_REFRESH_REUSED');
    expect((await a.http.get('/protected').set(bearer(access_token)).expect(401)).body.code).toBe(
      'AUTH_TOKEN_REVOKED',
    );
  });
});
