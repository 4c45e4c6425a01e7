import { RedisRateLimitStore } from '../src/index';
import { startDemo } from './support/demo-app';
import { describeWithRedis, testPrefix } from './support/redis';
import { SentinelSetup } from './support/redis-sentinel';
import { redisStoreContract } from './support/revocation-store.contract';

/**
 * Redis behind Sentinel (one master, one replica, three sentinels, real servers on loopback):
 * TokenGuard finds the master through the sentinels, with a `{ sentinels, name }` configuration.
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
      expect(await master.exists(`${prefix}rl:client`)).toBe(1);
      master.disconnect();
    } finally {
      await limits.onModuleDestroy();
    }
  });

  it('runs the demo on REDIS_SENTINELS: a logout refuses the token on a second instance', async () => {
    const env = {
      REDIS_SENTINELS: setup.addresses,
      REDIS_SENTINEL_NAME: 'tokenguard',
      REDIS_KEY_PREFIX: testPrefix(),
    };
    const one = await startDemo(env);
    const two = await startDemo({ ...env, JWT_SECRET: one.secret });
    try {
      const { access_token } = await one.login('alice');
      const auth = `Bearer ${access_token}`;
      await two.http.get('/protected').set('Authorization', auth).expect(200);
      await one.http.post('/auth/logout').set('Authorization', auth).expect(200);
      const refused = await two.http.get('/protected').set('Authorization', auth).expect(401);
      expect(refused.body.code).toBe('AUTH_TOKEN_REVOKED');
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
