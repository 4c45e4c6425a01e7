import { randomBytes } from 'node:crypto';
import { RedisRateLimitStore } from '../src/index';
import { revocationKeys } from '../src/common/redis-keys';
import { startDemo } from './support/demo-app';
import { describeWithRedis, testPrefix } from './support/redis';
import { ClusterSetup } from './support/redis-cluster';
import { redisStoreContract } from './support/revocation-store.contract';

/**
 * A Redis Cluster (three masters, three replicas, real servers on loopback): the store contract
 * (every script in one slot, or Redis would answer CROSSSLOT), the rate-limit script, and the
 * round trips of a guarded request counted on the masters. Two demo instances on
 * `REDIS_CLUSTER_NODES`: the multi-instance and rate-limit suites.
 */
describeWithRedis('Redis Cluster', () => {
  let cluster: ClusterSetup;
  beforeAll(async () => (cluster = await ClusterSetup.start()), 60_000);
  afterAll(() => cluster?.dispose());

  describe('the revocation store contract', () => {
    const contract = redisStoreContract(
      () => cluster.config,
      () => cluster.client(),
    );

    it('names the cluster in its start-up line', () => {
      expect(contract.store().describe()).toMatch(
        /^Redis Cluster of masters (127\.0\.0\.1:\d+(, )?){3}$/,
      );
    });
  });

  it("puts a user's keys in one slot, and users in many", async () => {
    const keys = revocationKeys('tg:');
    const client = cluster.client();
    try {
      const slot = (key: string) => client.cluster('KEYSLOT', key);
      for (const sub of ['ann', 'a}b{c', 'user@example.com']) {
        const slots = await Promise.all(
          [keys.token(sub, 'j'), keys.session(sub, 's'), keys.user(sub)].map(slot),
        );
        expect(new Set(slots).size).toBe(1);
      }
      const users = await Promise.all(
        Array.from({ length: 20 }, (_, i) => slot(keys.user(`user-${i}`))),
      );
      expect(new Set(users).size).toBeGreaterThan(10);
    } finally {
      client.disconnect();
    }
  });

  it('counts rate-limit hits with their block in one slot', async () => {
    const limits = new RedisRateLimitStore(cluster.config, testPrefix(), 1000);
    await limits.onModuleInit();
    try {
      const hits = [];
      for (let i = 0; i < 3; i++) hits.push(await limits.hit('client', 60_000, 2, 5_000));
      expect(hits.map((hit) => hit.hits)).toEqual([1, 2, 3]);
      expect(hits[2]!.blockStarted).toBe(true);
      expect((await limits.hit('client', 60_000, 2, 5_000)).blockedMs).toBeGreaterThan(0);
    } finally {
      await limits.onModuleDestroy();
    }
  });

  it('checks a guarded request in one command, one round trip, on the master of its user', async () => {
    const demo = await startDemo({
      REDIS_CLUSTER_NODES: cluster.addresses,
      REDIS_KEY_PREFIX: testPrefix(),
      JWT_SECRET: randomBytes(48).toString('base64url'),
    });
    try {
      const { access_token } = await demo.login('alice');
      await cluster.resetStats();
      const requests = 50;
      for (let i = 0; i < requests; i++) {
        await demo.http
          .get('/protected')
          .set('Authorization', `Bearer ${access_token}`)
          .expect(200);
      }
      const calls = await cluster.commandCalls();
      // Leave out what a cluster client (topology) and this test (stats, roles) ask of the nodes.
      const ADMIN = /^(cluster|config|info|role|hello|command|client|ping)/;
      const data = Object.fromEntries(Object.entries(calls).filter(([name]) => !ADMIN.test(name)));
      console.log(`${requests} guarded requests on a Redis Cluster: ${JSON.stringify(data)}`);
      expect(data).toEqual({ mget: requests });
    } finally {
      await demo.close();
    }
  });
});
