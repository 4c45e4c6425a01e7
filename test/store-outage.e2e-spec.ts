import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { AuthModule, AuthService, RedisRevocationStore, RevocationStore } from '../src/index';
import { bootApp } from './support/auth-app';
import { startDemo, type RunningDemo } from './support/demo-app';
import { describeWithRedis } from './support/redis';
import { RedisServer } from './support/redis-server';

// Above the default (300), so a busy CI machine does not turn a slow answer into a 503.
const TIMEOUT_MS = 500;

/**
 * A Redis of the test's own, stopped and started again: the app must refuse with 503 while it
 * is away (never 200 for a revoked token, never hang), and recover alone with nothing lost.
 */
describeWithRedis('revocation store outage', () => {
  let redis: RedisServer;
  let demo: RunningDemo;
  let inspector: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start();
    demo = await startDemo({ REDIS_URL: redis.url, REVOCATION_TIMEOUT_MS: String(TIMEOUT_MS) });
    inspector = redis.client();
  });
  afterAll(async () => {
    inspector.disconnect();
    await demo.close();
    await redis.dispose();
  });

  // A bound on the whole request, so a hang fails the test instead of stalling it.
  const get = (path: string, token?: string) => {
    const req = demo.http.get(path).timeout({ response: 5_000 });
    return token ? req.set('Authorization', `Bearer ${token}`) : req;
  };
  const post = (path: string, token: string) =>
    demo.http.post(path).set('Authorization', `Bearer ${token}`).timeout({ response: 5_000 });

  const SCRIPTED = new Set(['incr', 'pttl', 'pexpire']);
  it('makes one Redis round trip per guarded request (revocation: no app-wide limit by default), none on /health', async () => {
    const { access_token } = await demo.login('alice');
    const calls = async () => {
      const stats = await inspector.info('commandstats');
      // Commands a script runs count too: count what the app sent (scripts run as one evalsha).
      return [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
        .filter(([, name]) => name !== 'info' && !SCRIPTED.has(name ?? ''))
        .reduce((sum, [, , n]) => sum + Number(n), 0);
    };
    const before = await calls();
    for (let i = 0; i < 10; i++) await get('/protected', access_token).expect(200);
    const afterGuarded = await calls();
    for (let i = 0; i < 10; i++) await get('/health').expect(200);
    expect(afterGuarded - before).toBe(10);
    expect((await calls()) - afterGuarded).toBe(0);
  });

  it('answers 503 while Redis is down, never 200 for a revoked token, and recovers with nothing lost', async () => {
    const revoked = await demo.login('alice');
    const valid = await demo.login('bob');
    await post('/auth/logout', revoked.access_token).expect(200);

    await redis.stop();
    for (const token of [valid.access_token, revoked.access_token]) {
      const res = await get('/protected', token);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        statusCode: 503,
        code: 'AUTH_STORE_UNAVAILABLE',
        message: expect.any(String),
      });
      expect(res.headers['retry-after']).toBe('1');
    }
    // Nothing that must be recorded claims success.
    expect((await post('/auth/logout', valid.access_token)).status).toBe(503);
    expect((await post('/auth/logout-all', valid.access_token)).status).toBe(503);
    expect((await post('/auth/refresh', valid.refresh_token)).status).toBe(503);
    const login = await demo.http
      .post('/auth/login')
      .send({ username: 'carol', password: 'carol-password' });
    expect(login.status).toBe(503); // the rate-limit counters are in the same Redis
    expect(login.body.code).toBe('AUTH_STORE_UNAVAILABLE');
    expect(login.body.access_token).toBeUndefined();
    await get('/health').expect(200); // exempt from rate limits, so it keeps answering

    await redis.start();
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await get('/protected', valid.access_token)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect((await get('/protected', revoked.access_token)).body.code).toBe('AUTH_TOKEN_REVOKED');
    await post('/auth/refresh', valid.refresh_token).expect(200);
  });

  it('answers 503 within the timeout when Redis is up but does not answer', async () => {
    const { access_token } = await demo.login('carol');
    // DEBUG SLEEP blocks the server like a network cut would: no error, just no answer.
    const sleeper = redis.client();
    const sleeping = sleeper.call('DEBUG', 'SLEEP', '2').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    try {
      const res = await get('/protected', access_token);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('AUTH_STORE_UNAVAILABLE');
    } finally {
      await sleeping;
      sleeper.disconnect();
    }
    await get('/protected', access_token).expect(200);
  });
});

/** What the Redis store warns at start-up against a redis-server started with `args`. */
async function startupWarnings(args: string[]): Promise<string[]> {
  const redis = await RedisServer.start(args);
  // Nest's own hook for capturing what is logged.
  const warnings: string[] = [];
  Logger.overrideLogger({
    log() {},
    error() {},
    warn: (message: unknown) => warnings.push(String(message)),
  });
  const store = new RedisRevocationStore({ redis: redis.url, keyPrefix: 'x:', timeoutMs: 500 });
  try {
    await store.onModuleInit();
    await new Promise((r) => setTimeout(r, 200)); // the check runs once the connection is ready
    return warnings;
  } finally {
    Logger.overrideLogger(false);
    await store.onModuleDestroy();
    await redis.dispose();
  }
}

describeWithRedis('Redis settings checked at start-up', () => {
  it.each([
    ['allkeys-lru', true],
    ['volatile-ttl', true],
    ['noeviction', false],
  ])('warns when maxmemory-policy is %s: %s', async (policy, warns) => {
    const warnings = await startupWarnings(['--maxmemory-policy', policy]);
    expect(warnings.some((m) => m.includes(`maxmemory-policy is "${policy}"`))).toBe(warns);
  });

  it.each([
    ['neither AOF nor RDB snapshots', true, ['--appendonly', 'no', '--save', '']],
    ['AOF', false, []],
  ])('with %s, warns that nothing is kept on disk: %s', async (_name, warns, args) => {
    const warnings = await startupWarnings(args);
    expect(warnings.some((m) => m.includes('Redis keeps nothing on disk'))).toBe(warns);
  });
});

describe('a custom store that never answers', () => {
  /** Starts sessions, then hangs on every check, as a store behind a dead network link would. */
  class HangingStore extends RevocationStore {
    private readonly never = () => new Promise<never>(() => undefined);
    startSession = () => Promise.resolve();
    isRevoked = this.never;
    rotate = this.never;
    revokeToken = this.never;
    revokeSession = this.never;
    revokeUser = this.never;
  }

  it('is bounded by the timeout: 503, not a hanging request', async () => {
    const store = new HangingStore();
    const app = await bootApp(
      AuthModule.forRoot({
        secret: randomBytes(32),
        issuer: 'hang',
        audience: 'hang-api',
        revocation: { store, timeoutMs: 100 },
        validateCredentials: () => ({ sub: 'u', roles: [] }),
      }),
    );
    try {
      const { access_token } = await app.get(AuthService).login('u', 'p');
      const res = await request(app.getHttpServer())
        .get('/me')
        .set('Authorization', `Bearer ${access_token}`)
        .timeout({ response: 5_000 });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('AUTH_STORE_UNAVAILABLE');
    } finally {
      await app.close();
    }
  });
});
