import { redisKey } from './support/revocation-store.contract';
import { Redis } from 'ioredis';
import { RevocationService as RevocationServiceToken } from '../src/index';
import { startDemo, type RunningDemo } from './support/demo-app';
import { decode, resign } from './support/forge';
import { deleteKeys, describeWithRedis, REDIS_URL, testPrefix } from './support/redis';

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;

/** Logout, logout everywhere and refresh rotation through the demo, on either store. */
function revocationSuite(redis?: { url: string; prefix: string }, store?: 'cache-manager') {
  const env = {
    ...(redis && { REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.prefix }),
    ...(store && { REVOCATION_STORE: store }),
  };
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo(env)));
  afterAll(() => demo.close());
  // The test clock stands still; real time would have moved past earlier tests' logout-everywhere marks.
  beforeEach(() => demo.clock.advance(0.001));

  const get = (token: string) =>
    demo.http.get('/protected').set('Authorization', `Bearer ${token}`);
  const post = (path: string, token: string) =>
    demo.http.post(path).set('Authorization', `Bearer ${token}`);
  const code = async (
    req: PromiseLike<{ status: number; body: { code?: string } }>,
    status: number,
  ) => {
    const res = await req;
    expect(res.status).toBe(status);
    return res.body.code;
  };

  it('logout ends the session: its access and refresh tokens are refused, other sessions are not', async () => {
    const a = await demo.login('alice');
    const b = await demo.login('alice');
    await post('/auth/logout', a.access_token).expect(200, { message: 'Logged out' });
    expect(await code(get(a.access_token), 401)).toBe('AUTH_TOKEN_REVOKED');
    expect(await code(post('/auth/refresh', a.refresh_token), 401)).toBe('AUTH_TOKEN_REVOKED');
    expect(await code(post('/auth/logout', a.access_token), 401)).toBe('AUTH_TOKEN_REVOKED');
    await get(b.access_token).expect(200);
  });

  it('logout also refuses tokens the session received from refreshes', async () => {
    const first = await demo.login('bob');
    const second = (await post('/auth/refresh', first.refresh_token).expect(200)).body;
    await post('/auth/logout', first.access_token).expect(200);
    expect(await code(get(second.access_token), 401)).toBe('AUTH_TOKEN_REVOKED');
    expect(await code(post('/auth/refresh', second.refresh_token), 401)).toBe('AUTH_TOKEN_REVOKED');
  });

  it('logout everywhere refuses every token of the user issued before, and only those', async () => {
    const one = await demo.login('carol');
    const two = await demo.login('carol');
    const refreshed = (await post('/auth/refresh', two.refresh_token).expect(200)).body;
    const bob = await demo.login('bob');
    demo.clock.advance(0.001);
    await post('/auth/logout-all', one.access_token).expect(200);
    for (const token of [one.access_token, two.access_token, refreshed.access_token]) {
      expect(await code(get(token), 401)).toBe('AUTH_TOKEN_REVOKED');
    }
    for (const token of [one.refresh_token, refreshed.refresh_token]) {
      expect(await code(post('/auth/refresh', token), 401)).toBe('AUTH_TOKEN_REVOKED');
    }
    await get(bob.access_token).expect(200);
  });

  it('lets a login made right after logout everywhere work, within the same second', async () => {
    // 100 ms into a second, so that the milliseconds added below never cross into the next one
    // (the clock starts at a random instant: at .999 this test asserted on two seconds).
    demo.clock.advance(((1100 - (demo.clock.now() % 1000)) % 1000) / 1000);
    const before = await demo.login('carol');
    demo.clock.advance(0.001);
    await post('/auth/logout-all', before.access_token).expect(200);
    demo.clock.advance(0.001);
    const after = await demo.login('carol');
    expect(Math.floor(decode(after.access_token).payload.iat as number)).toBe(
      Math.floor(decode(before.access_token).payload.iat as number),
    );
    await get(after.access_token).expect(200);
    const refreshed = (await post('/auth/refresh', after.refresh_token).expect(200)).body;
    await get(refreshed.access_token).expect(200);
    // iat is whole seconds; iat_ms orders TokenGuard's tokens. One without it (another tool's,
    // with the shared key) counts from the start of its second: revoked, the safe side.
    const foreign = resign(after.access_token, demo.secret, (claims) => delete claims.iat_ms);
    expect(await code(get(foreign), 401)).toBe('AUTH_TOKEN_REVOKED');
  });

  it('rotates refresh tokens: a replay within the grace window gets the same pair, a reuse after it ends the session', async () => {
    const first = await demo.login('alice');
    const second = (await post('/auth/refresh', first.refresh_token).expect(200)).body;
    await get(second.access_token).expect(200);
    // A retry (a lost response, a second tab) within 30 s: the very same successor.
    demo.clock.advance(29);
    expect((await post('/auth/refresh', first.refresh_token).expect(200)).body).toEqual(second);
    demo.clock.advance(2);
    const reuse = await post('/auth/refresh', first.refresh_token).expect(401);
    expect(reuse.body.code).toBe('AUTH_REFRESH_REUSED');
    expect(reuse.headers['www-authenticate']).toMatch(/invalid_token/);
    expect(await code(post('/auth/refresh', second.refresh_token), 401)).toBe('AUTH_TOKEN_REVOKED');
    expect(await code(get(second.access_token), 401)).toBe('AUTH_TOKEN_REVOKED');
    expect(await code(get(first.access_token), 401)).toBe('AUTH_TOKEN_REVOKED');
  });

  it('gives 50 concurrent refreshes with one token one successor, and the next rotation makes the first token reuse', async () => {
    const { refresh_token } = await demo.login('bob');
    const results = await Promise.all(
      Array.from({ length: 50 }, () => post('/auth/refresh', refresh_token)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const successor = results[0]!.body as { refresh_token: string };
    await post('/auth/refresh', successor.refresh_token).expect(200);
    expect(await code(post('/auth/refresh', refresh_token), 401)).toBe('AUTH_REFRESH_REUSED');
  });

  it('refuses a disabled account everywhere once an admin revokes the user', async () => {
    const { access_token } = await demo.login('bob');
    demo.clock.advance(0.001);
    await demo.app.get(RevocationServiceToken).revokeUser('2');
    expect(await code(get(access_token), 401)).toBe('AUTH_TOKEN_REVOKED');
  });

  if (redis) {
    it('keeps each Redis entry exactly as long as the tokens it refuses could live', async () => {
      const inspector = new Redis(redis.url);
      try {
        const { access_token } = await demo.login('alice');
        const { sid, sub } = decode(access_token).payload as { sid: string; sub: string };
        const fresh = await inspector.pttl(redisKey(redis.prefix, 's', sub, sid));
        expect(fresh).toBeGreaterThan(SEVEN_DAYS_MS);
        expect(fresh).toBeLessThanOrEqual(SEVEN_DAYS_MS + 30_000);
        await post('/auth/logout', access_token).expect(200);
        const raw = (await inspector.get(redisKey(redis.prefix, 's', sub, sid))) ?? '';
        // cache-manager keeps Keyv's envelope around the value.
        expect(store ? (JSON.parse(raw) as { value: string }).value : raw).toBe('!');
        expect(await inspector.pttl(redisKey(redis.prefix, 's', sub, sid))).toBeLessThanOrEqual(
          fresh,
        );
        const other = await demo.login('alice');
        await post('/auth/logout-all', other.access_token).expect(200);
        expect(await inspector.pttl(redisKey(redis.prefix, 'u', sub, ''))).toBeLessThanOrEqual(
          SEVEN_DAYS_MS + 30_000,
        );
        expect(await inspector.pttl(redisKey(redis.prefix, 'u', sub, ''))).toBeGreaterThan(
          SEVEN_DAYS_MS - 60_000,
        );
      } finally {
        inspector.disconnect();
      }
    });

    it('keeps revocations across an app restart', async () => {
      const revoked = await demo.login('alice');
      const kept = await demo.login('alice');
      await post('/auth/logout', revoked.access_token).expect(200);
      const restarted = await startDemo({ ...env, JWT_SECRET: demo.secret }, { clock: demo.clock });
      try {
        const res = await restarted.http
          .get('/protected')
          .set('Authorization', `Bearer ${revoked.access_token}`);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('AUTH_TOKEN_REVOKED');
        await restarted.http
          .get('/protected')
          .set('Authorization', `Bearer ${kept.access_token}`)
          .expect(200);
        await restarted.http
          .post('/auth/refresh')
          .send({ refresh_token: kept.refresh_token })
          .expect(200);
      } finally {
        await restarted.close();
      }
    });
  } else {
    it('forgets revocations on restart, as the README says (use Redis to keep them)', async () => {
      const revoked = await demo.login('alice');
      await post('/auth/logout', revoked.access_token).expect(200);
      const restarted = await startDemo({ ...env, JWT_SECRET: demo.secret }, { clock: demo.clock });
      try {
        await restarted.http
          .get('/protected')
          .set('Authorization', `Bearer ${revoked.access_token}`)
          .expect(200);
        // Rotation state is gone too: the refresh token is refused rather than trusted blindly.
        const res = await restarted.http
          .post('/auth/refresh')
          .send({ refresh_token: revoked.refresh_token });
        expect(res.status).toBe(401);
      } finally {
        await restarted.close();
      }
    });
  }
}

describe('revocation with the in-memory store', () => revocationSuite());

describeWithRedis('revocation with Redis', () => {
  const prefix = testPrefix();
  afterAll(() => deleteKeys(prefix));
  revocationSuite({ url: REDIS_URL, prefix });
});

describe('revocation on cache-manager with an in-memory Keyv', () =>
  revocationSuite(undefined, 'cache-manager'));

describeWithRedis('revocation on cache-manager with @keyv/redis', () => {
  const prefix = testPrefix();
  afterAll(() => deleteKeys(prefix));
  revocationSuite({ url: REDIS_URL, prefix }, 'cache-manager');
});
