import { randomBytes } from 'node:crypto';
import { Controller, HttpCode, Post } from '@nestjs/common';
import request from 'supertest';
import { AuthModule, LoginEndpoint, Public } from '../src/index';
import { bootApp } from './support/auth-app';
import { PASSWORDS, startDemo, type DemoUsername, type RunningDemo } from './support/demo-app';
import { inCluster } from './support/redis-cluster';
import { behindSentinel, onRedis, type Shared } from './support/redis-sentinel';
import { deleteKeys, describeWithRedis, REDIS_URL, testPrefix } from './support/redis';

/** A login from `ip` (sent as X-Forwarded-For, which counts only when the demo trusts a proxy). */
function login(demo: RunningDemo, username: DemoUsername, password?: string, ip?: string) {
  const req = demo.http
    .post('/auth/login')
    .send({ username, password: password ?? PASSWORDS[username] });
  return ip ? req.set('X-Forwarded-For', ip) : req;
}

describe('login rate limit (LOGIN_RATE_LIMIT=5/60s)', () => {
  let demo: RunningDemo;
  beforeEach(async () => (demo = await startDemo({ LOGIN_RATE_LIMIT: '5/60s' })));
  afterEach(() => demo.close());

  it('answers the 6th login within a minute with 429, Retry-After and a code, and lets it through a minute later', async () => {
    for (let i = 0; i < 5; i++) await login(demo, 'alice').expect(200);
    const res = await login(demo, 'alice').expect(429);
    expect(res.body).toMatchObject({ statusCode: 429, code: 'AUTH_RATE_LIMITED' });
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Other routes have their own (higher) limit.
    await demo.http.get('/health').expect(200);
    demo.clock.advance(61);
    await login(demo, 'alice').expect(200);
  });

  it('counts wrong passwords and unknown users alike', async () => {
    for (let i = 0; i < 5; i++) await login(demo, 'carol', `wrong-${i}`).expect(401);
    expect((await login(demo, 'carol').expect(429)).body.code).toBe('AUTH_RATE_LIMITED');
  });

  it('ignores X-Forwarded-For unless a proxy is trusted: a client cannot pick its own address', async () => {
    for (let i = 0; i < 5; i++) await login(demo, 'alice', undefined, `203.0.113.${i}`).expect(200);
    await login(demo, 'alice', undefined, '203.0.113.99').expect(429);
  });
});

describe('refresh rate limit (REFRESH_RATE_LIMIT=3/60s), and no limit elsewhere by default', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo({ REFRESH_RATE_LIMIT: '3/60s' })));
  afterAll(() => demo.close());

  it('counts every refresh attempt per client, junk included, and answers the 4th with 429', async () => {
    const { refresh_token, access_token } = await demo.login('alice');
    await demo.http.post('/auth/refresh').send({ refresh_token: 'junk' }).expect(401);
    await demo.http.post('/auth/refresh').send({ refresh_token: 'junk' }).expect(401);
    await demo.http.post('/auth/refresh').send({ refresh_token }).expect(200);
    const res = await demo.http.post('/auth/refresh').send({ refresh_token }).expect(429);
    expect(res.body.code).toBe('AUTH_RATE_LIMITED');
    // Routes without a marker have no limit unless the app asks for one (rateLimit.default).
    for (let i = 0; i < 20; i++) {
      await demo.http.get('/protected').set('Authorization', `Bearer ${access_token}`).expect(200);
    }
  });
});

describe('login rate limit behind one trusted proxy (TRUST_PROXY=true)', () => {
  let demo: RunningDemo;
  beforeAll(
    async () => (demo = await startDemo({ LOGIN_RATE_LIMIT: '5/60s', TRUST_PROXY: 'true' })),
  );
  afterAll(() => demo.close());

  it('limits per forwarded client, reading the entry the proxy added (the rightmost)', async () => {
    for (let i = 0; i < 5; i++) await login(demo, 'bob', undefined, '198.51.100.1').expect(200);
    await login(demo, 'bob', undefined, '198.51.100.1').expect(429);
    await login(demo, 'bob', undefined, '198.51.100.2').expect(200);
    // Whatever the client writes to the left of the proxy's entry does not change who it is.
    await login(demo, 'bob', undefined, '10.9.9.9, 198.51.100.1').expect(429);
  });
});

describe('login lockout per username (LOGIN_LOCKOUT=5/15m, lock 1 min doubling to 15)', () => {
  let demo: RunningDemo;
  beforeEach(async () => (demo = await startDemo({ TRUST_PROXY: 'true' })));
  afterEach(() => demo.close());

  const failFrom = async (username: DemoUsername, first: number, count: number) => {
    for (let i = first; i < first + count; i++)
      await login(demo, username, 'not-the-password', `192.0.2.${i}`).expect(401);
  };

  it('locks a username after 5 failures from 5 addresses, for every new address, until the lock ends', async () => {
    await failFrom('bob', 1, 5);
    const locked = await login(demo, 'bob', undefined, '192.0.2.100').expect(429);
    expect(locked.body).toMatchObject({ code: 'AUTH_LOGIN_LOCKED' });
    expect(Number(locked.headers['retry-after'])).toBe(60);
    await login(demo, 'alice', undefined, '192.0.2.100').expect(200); // other users are not affected
    demo.clock.advance(61);
    await login(demo, 'bob', undefined, '192.0.2.100').expect(200);
  });

  it('doubles each further lock, up to the cap, and never counts attempts made during a lock', async () => {
    const expected = [60, 120, 240, 480, 900, 900];
    for (const seconds of expected) {
      await failFrom('carol', 1, 5);
      const res = await login(demo, 'carol', 'still-wrong', '192.0.2.50').expect(429);
      expect(Number(res.headers['retry-after'])).toBe(seconds);
      // Hammering during the lock neither extends it nor counts toward the next one.
      for (let i = 0; i < 10; i++) await login(demo, 'carol', 'x', '192.0.2.51').expect(429);
      demo.clock.advance(seconds + 1);
    }
    await login(demo, 'carol', undefined, '192.0.2.52').expect(200);
  });

  it('keeps letting the user in from an address they logged in from before, counted apart', async () => {
    await login(demo, 'alice', undefined, '198.51.100.7').expect(200); // alice's usual address
    await failFrom('alice', 1, 5); // an attacker elsewhere
    await login(demo, 'alice', undefined, '192.0.2.200').expect(429);
    await login(demo, 'alice', undefined, '198.51.100.7').expect(200);
    // Guessing from the known address locks only that address's own count.
    for (let i = 0; i < 5; i++) await login(demo, 'alice', 'wrong', '198.51.100.7').expect(401);
    await login(demo, 'alice', undefined, '198.51.100.7').expect(429);
  });

  it('checks at most 5 passwords when 50 wrong logins arrive at once from 50 addresses', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        login(demo, 'carol', 'wrong', `203.0.113.${i}`).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(45);
  });

  it('folds case and width, so Alice and ALICE count with alice', async () => {
    for (const name of ['Alice', 'ALICE', 'alice', ' alice', 'ａｌｉｃｅ']) {
      await demo.http
        .post('/auth/login')
        .set('X-Forwarded-For', '192.0.2.9')
        .send({ username: name, password: 'wrong' })
        .expect(401);
    }
    await login(demo, 'alice', undefined, '192.0.2.10').expect(429);
  });
});

describeWithRedis.each([
  ['Redis', onRedis()],
  ['Redis behind Sentinel', behindSentinel],
  ['a Redis Cluster', inCluster],
])('rate limits shared through %s by two instances', (_name, shared: Shared) => {
  const prefix = testPrefix();
  let a: RunningDemo;
  let b: RunningDemo;
  let close: (prefix: string) => Promise<void>;
  beforeAll(async () => {
    const connection = await shared();
    close = connection.close;
    const env = {
      ...connection.env,
      REDIS_KEY_PREFIX: prefix,
      LOGIN_RATE_LIMIT: '5/60s',
      TRUST_PROXY: 'true',
    };
    [a, b] = await Promise.all([startDemo(env), startDemo(env)]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await close(prefix);
  });

  it('holds the login limit jointly: 3 on A and 2 on B use it up for both', async () => {
    const ip = '198.51.100.10';
    for (let i = 0; i < 3; i++) await login(a, 'alice', undefined, ip).expect(200);
    for (let i = 0; i < 2; i++) await login(b, 'alice', undefined, ip).expect(200);
    expect((await login(a, 'alice', undefined, ip).expect(429)).body.code).toBe(
      'AUTH_RATE_LIMITED',
    );
    await login(b, 'alice', undefined, ip).expect(429);
  });

  it('counts concurrent logins on both instances exactly (atomic counters)', async () => {
    const ip = '198.51.100.11';
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        login(i % 2 ? a : b, 'carol', 'wrong', ip).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('checks at most 5 passwords for 40 concurrent wrong logins spread over both instances', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        login(i % 2 ? a : b, 'alice', 'wrong', `203.0.113.${i}`).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
  });

  it('locks a username on every instance', async () => {
    for (let i = 0; i < 5; i++)
      await login(i % 2 ? a : b, 'bob', 'wrong', `192.0.2.${i}`).expect(401);
    for (const demo of [a, b]) {
      const res = await login(demo, 'bob', undefined, '192.0.2.99').expect(429);
      expect(res.body.code).toBe('AUTH_LOGIN_LOCKED');
    }
  });
});

describe('login limit across several login routes', () => {
  @Controller()
  class TwoLogins {
    @Public() @LoginEndpoint() @Post('login') @HttpCode(200) one() {}
    @Public() @LoginEndpoint() @Post('v2/login') @HttpCode(200) two() {}
  }

  it('counts one client once over every @LoginEndpoint route', async () => {
    const app = await bootApp(
      AuthModule.forRoot({
        secret: 'kP2v9Xq7Lm4Zt8Rw1Yb6Nc3Hd5Fg0JsE',
        issuer: 'i',
        audience: 'a',
        rateLimit: { login: { limit: 2, ttlSeconds: 60 } },
      }),
      TwoLogins,
    );
    try {
      const http = request(app.getHttpServer());
      await http.post('/login').expect(200);
      await http.post('/v2/login').expect(200);
      expect((await http.post('/v2/login').expect(429)).body.code).toBe('AUTH_RATE_LIMITED');
      await http.post('/login').expect(429);
    } finally {
      await app.close();
    }
  });
});

describeWithRedis(
  'counters on a Redis of their own (rateLimit.redis), revocations in memory',
  () => {
    const prefix = testPrefix();
    let a: RunningDemo;
    let b: RunningDemo;
    beforeAll(async () => {
      const rateLimit = {
        login: { limit: 5, ttlSeconds: 60 },
        redis: REDIS_URL,
        keyPrefix: prefix,
      };
      const env = { TRUST_PROXY: 'true', JWT_SECRET: randomBytes(48).toString('base64url') };
      const start = () => startDemo(env, { auth: { rateLimit } });
      [a, b] = await Promise.all([start(), start()]);
    });
    afterAll(async () => {
      await Promise.all([a.close(), b.close()]);
      await deleteKeys(prefix);
    });

    it('holds the login limit jointly, with nothing else on Redis', async () => {
      const ip = '198.51.100.20';
      for (let i = 0; i < 3; i++) await login(a, 'alice', undefined, ip).expect(200);
      for (let i = 0; i < 2; i++) await login(b, 'alice', undefined, ip).expect(200);
      await login(b, 'alice', undefined, ip).expect(429);
      const { access_token } = await login(a, 'bob', undefined, '198.51.100.21')
        .expect(200)
        .then((r) => r.body as { access_token: string });
      await a.http.post('/auth/logout').set('Authorization', `Bearer ${access_token}`).expect(200);
      // Revocations stayed in A's memory: B, which shares only the counters, still accepts the token.
      await b.http.get('/protected').set('Authorization', `Bearer ${access_token}`).expect(200);
    });
  },
);
