import { RedisRateLimitStore } from '../src/index';
import { describeWithRedis, testPrefix } from './support/redis';
import { SentinelSetup } from './support/redis-sentinel';
import { redisStoreContract } from './support/revocation-store.contract';

/**
 * Redis behind Sentinel (one master, one replica, three sentinels, real servers on loopback):
 * TokenGuard finds the master through the sentinels, with a `{ sentinels, name }` configuration.
 * Two demo instances on `REDIS_SENTINELS`: the multi-instance and rate-limit suites.
 */
describeWithRedis('Redis behind Sentinel', () => {
  let setup: SentinelSetup;
  beforeAll(async () => (setup = await SentinelSetup.start()), 30_000);
  afterAll(() => setup?.dispose());

  describe('the revocation store contract', () => {
    const contract = redisStoreContract(
      () => setup.config,
      () => setup.master.client(),
    );

    it('names the master and the sentinels in its start-up line', () => {
      expect(contract.store().describe()).toBe(
        `Redis master "tokenguard" via Sentinel at ${setup.addresses.split(',').join(', ')} db 0`,
      );
    });
  });

  it('counts rate-limit hits on the master the sentinels name', async () => {
    const prefix = testPrefix();
    const limits = new RedisRateLimitStore(setup.config, prefix, 1000);
    await limits.onModuleInit();
    try {
      const first = await limits.hit('client', 60_000, 2, 0);
      const second = await limits.hit('client', 60_000, 2, 0);
      expect([first.hits, second.hits]).toEqual([1, 2]);
      const master = setup.master.client();
      expect(await master.exists(`${prefix}rl:{client}`)).toBe(1);
      master.disconnect();
    } finally {
      await limits.onModuleDestroy();
    }
  });
});
