import { decode } from 'jsonwebtoken';
import { startDemo, type RunningDemo } from './support/demo-app';
import { deleteKeys, describeWithRedis, REDIS_URL, testPrefix } from './support/redis';
import { TcpProxy } from './support/tcp-proxy';

/**
 * A refresh whose answer is lost: the rotation reaches Redis and is applied, but its reply is
 * held past the timeout, so the client gets 503 and retries with the same refresh token. Within
 * the grace window the retry gets the lost rotation's successor and the session lives on; with
 * the window off (what TokenGuard did before) the retry was reuse and ended the session.
 */
describeWithRedis.each([
  ['the Redis store', 'redis'],
  ['cache-manager on @keyv/redis', 'cache-manager'],
])('a refresh whose answer is lost, on %s', (_name, store) => {
  const prefix = testPrefix();
  let proxy: TcpProxy;
  const demos: RunningDemo[] = [];

  beforeAll(async () => {
    proxy = await TcpProxy.start(Number(new URL(REDIS_URL).port || 6379));
  });
  afterAll(async () => {
    await Promise.all(demos.map((demo) => demo.close()));
    await proxy.close();
    await deleteKeys(prefix);
  });

  /** A demo on Redis through the proxy; no refresh limit, so rotation is the first store call. */
  async function demoWithGrace(grace: string): Promise<RunningDemo> {
    const demo = await startDemo({
      REDIS_URL: proxy.url,
      REVOCATION_STORE: store,
      REDIS_KEY_PREFIX: prefix,
      REVOCATION_TIMEOUT_MS: '300',
      REFRESH_RATE_LIMIT: 'off',
      REFRESH_GRACE: grace,
    });
    demos.push(demo);
    return demo;
  }

  /** Refreshes with the store's replies held: the rotation happens, its answer does not arrive. */
  async function refreshLosingTheAnswer(demo: RunningDemo, refreshToken: string) {
    proxy.set('hold-replies');
    try {
      const lost = await demo.http
        .post('/auth/refresh')
        .send({ refresh_token: refreshToken })
        .timeout({ response: 5_000 });
      expect(lost.status).toBe(503);
      expect(lost.headers['retry-after']).toBe('1');
    } finally {
      proxy.set('pass');
    }
    for (let tries = 0; (await demo.http.get('/health/ready')).status !== 200; tries++) {
      if (tries === 50) throw new Error('the store did not come back');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    demo.clock.advance(2); // the client waited for Retry-After, and then some
  }

  it('gives the retry within the grace window the lost successor, and the session lives on', async () => {
    const demo = await demoWithGrace('30s');
    const { refresh_token } = await demo.login('alice');
    const rotatedAt = demo.clock.now();
    await refreshLosingTheAnswer(demo, refresh_token);

    const retry = await demo.http.post('/auth/refresh').send({ refresh_token }).expect(200);
    const pair = retry.body as { access_token: string; refresh_token: string };
    // Issued when the lost rotation ran, not now: it is that rotation's successor.
    const claims = decode(pair.refresh_token) as { iat_ms: number };
    expect(claims.iat_ms).toBe(rotatedAt);
    await demo.http
      .get('/protected')
      .set('Authorization', `Bearer ${pair.access_token}`)
      .expect(200);
    await demo.http.post('/auth/refresh').send({ refresh_token: pair.refresh_token }).expect(200);
  });

  it('without a grace window, the same retry is taken for reuse and ends the session', async () => {
    const demo = await demoWithGrace('0');
    const { access_token, refresh_token } = await demo.login('alice');
    await refreshLosingTheAnswer(demo, refresh_token);

    const retry = await demo.http.post('/auth/refresh').send({ refresh_token }).expect(401);
    expect(retry.body.code).toBe('AUTH_REFRESH_REUSED');
    await demo.http.get('/protected').set('Authorization', `Bearer ${access_token}`).expect(401);
  });
});
