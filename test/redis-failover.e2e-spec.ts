import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { RedisRevocationStore } from '../src/index';
import { startDemo, type RunningDemo } from './support/demo-app';
import { describeWithRedis, testPrefix } from './support/redis';
import { RedisServer } from './support/redis-server';
import { SentinelSetup } from './support/redis-sentinel';
import { redisKey } from './support/revocation-store.contract';

type Counts = Record<string, number>;

/**
 * A master failing over under load, on real servers (one master, one replica, three sentinels on
 * loopback ports): the master is frozen (SIGSTOP, as a hung host) while a steady stream of
 * guarded requests runs, the sentinels promote the replica, and the old master is then killed
 * (SIGKILL). Answers are counted by token and status: a revoked token is never accepted, the
 * live one gets 503s only while no master answers, and service resumes without a restart.
 * Revocations wait for the replica (`waitForReplicas: 1`), so the one made just before the
 * freeze survives it. Figures are printed; nothing here is timed.
 */
describeWithRedis('a Sentinel failover under load', () => {
  let setup: SentinelSetup;
  let demo: RunningDemo;

  beforeAll(async () => {
    setup = await SentinelSetup.start();
    demo = await startDemo({
      REDIS_SENTINELS: setup.addresses,
      REDIS_SENTINEL_NAME: setup.config.name,
      REDIS_KEY_PREFIX: testPrefix(),
      REDIS_WAIT_FOR_REPLICAS: '1',
      REVOCATION_TIMEOUT_MS: '300',
      JWT_SECRET: randomBytes(48).toString('base64url'),
    });
  }, 60_000);
  afterAll(async () => {
    await demo?.close();
    await setup?.dispose();
  });

  /** The sentinels' master now: its port. */
  const masterPort = async (): Promise<number> => {
    const sentinel = new Redis(setup.config.sentinels[0]!);
    try {
      const [, port] = (await sentinel.call(
        'SENTINEL',
        'get-master-addr-by-name',
        setup.config.name,
      )) as [string, string];
      return Number(port);
    } finally {
      sentinel.disconnect();
    }
  };

  it('has each revocation on the replica once acknowledged, and measures what that costs', async () => {
    const prefix = testPrefix();
    const run = async (waitForReplicas: number) => {
      const store = new RedisRevocationStore({
        redis: setup.config,
        keyPrefix: prefix,
        timeoutMs: 1000,
        waitForReplicas,
      });
      await store.onModuleInit();
      const replica = setup.replica.client();
      try {
        await store.revokeUser('warm-up', Date.now(), 60_000);
        let writing = 0;
        let onReplica = 0;
        for (let i = 0; i < 200; i++) {
          const sub = `user-${waitForReplicas}-${i}`;
          const started = performance.now();
          await store.revokeUser(sub, Date.now(), 60_000);
          writing += performance.now() - started;
          // Read at once from the replica: with WAIT, it has what the master acknowledged.
          if (waitForReplicas > 0)
            onReplica += await replica.exists(redisKey(prefix, 'u', sub, ''));
        }
        return { ms: writing / 200, onReplica };
      } finally {
        replica.disconnect();
        await store.onModuleDestroy();
      }
    };
    const without = await run(0);
    const waiting = await run(1);
    console.log(
      `a revocation on a Sentinel master: ${without.ms.toFixed(2)} ms, ${waiting.ms.toFixed(2)} ms ` +
        'with WAIT for 1 replica',
    );
    expect(waiting.onReplica).toBe(200);
  });

  it('accepts no revoked token, answers 503 only while no master answers, and recovers', async () => {
    const live = (await demo.login('alice')).access_token;
    const loggedOut = await demo.login('bob');
    await demo.http
      .post('/auth/logout')
      .set('Authorization', `Bearer ${loggedOut.access_token}`)
      .expect(200);
    const counts: Record<'live' | 'revoked', Counts> = { live: {}, revoked: {} };
    const statusOf = async (token: string) =>
      (await demo.http.get('/protected').set('Authorization', `Bearer ${token}`)).status;
    let lastFailure = 0;
    let okAfterFailure = 0;
    let stop = false;
    const stream = (async () => {
      while (!stop) {
        for (const [name, token] of [
          ['live', live],
          ['revoked', loggedOut.access_token],
        ] as const) {
          const status = await statusOf(token);
          counts[name][status] = (counts[name][status] ?? 0) + 1;
          if (name === 'live' && status !== 200) {
            lastFailure = Date.now();
            okAfterFailure = 0;
          }
          if (name === 'live' && status === 200 && lastFailure > 0) okAfterFailure += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const oldMaster = setup.master;
    const stoppedAt = Date.now();
    oldMaster.signal('SIGSTOP');
    // Until the sentinels name another master; then the frozen one is lost for good.
    const deadline = Date.now() + 30_000;
    while ((await masterPort()) === oldMaster.port && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    oldMaster.signal('SIGKILL');
    // Until the live token has been served 20 times in a row since its last refusal.
    while (okAfterFailure < 20 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    stop = true;
    await stream;

    const recoveredMs = lastFailure - stoppedAt;
    console.log(
      `failover: live ${JSON.stringify(counts.live)}, revoked ${JSON.stringify(counts.revoked)}, ` +
        `503s for ${recoveredMs} ms after the master froze`,
    );
    expect(await masterPort()).not.toBe(oldMaster.port);
    expect(counts.revoked[200]).toBeUndefined();
    expect(Object.keys(counts.revoked).every((s) => s === '401' || s === '503')).toBe(true);
    expect(Object.keys(counts.live).every((s) => s === '200' || s === '503')).toBe(true);
    expect(counts.live[503]).toBeGreaterThan(0); // the outage was seen
    expect(okAfterFailure).toBeGreaterThanOrEqual(20); // and service came back, no restart
    // The revocation acknowledged before the freeze is on the new master.
    expect(
      (await demo.http.get('/protected').set('Authorization', `Bearer ${loggedOut.access_token}`))
        .body.code,
    ).toBe('AUTH_TOKEN_REVOKED');
  }, 60_000);
});

describeWithRedis('waitForReplicas', () => {
  it('refuses to acknowledge a revocation no replica took, and says so', async () => {
    const lonely = await RedisServer.start();
    const store = new RedisRevocationStore({
      redis: lonely.url,
      keyPrefix: testPrefix(),
      timeoutMs: 200,
      waitForReplicas: 1,
    });
    await store.onModuleInit();
    try {
      await expect(store.revokeUser('ann', Date.now(), 60_000)).rejects.toThrow(
        'the write reached 0 of 1 replicas in time',
      );
    } finally {
      await store.onModuleDestroy();
      await lonely.dispose();
    }
  });
});
