import { Redis } from 'ioredis';
import { MemoryRevocationStore, RedisRevocationStore } from '../src/index';
import { deleteKeys, describeWithRedis, REDIS_URL, testPrefix } from './support/redis';
import { revocationStoreContract, type StoreUnderTest } from './support/revocation-store.contract';
import { TestClock } from './support/test-clock';

describe('MemoryRevocationStore', () => {
  const clock = new TestClock();
  const store = new MemoryRevocationStore(clock);
  const internal = store as unknown as Record<
    'tokens' | 'sessions' | 'users',
    Map<string, { expires: number }>
  >;
  const maps = { t: internal.tokens, s: internal.sessions, u: internal.users };

  revocationStoreContract(
    () =>
      Promise.resolve<StoreUnderTest>({
        store,
        clock,
        ttlOf: (kind, id) => {
          const entry = maps[kind].get(id);
          return Promise.resolve(entry && entry.expires * 1000 - clock.now());
        },
      }),
    () => Promise.resolve(store.onModuleDestroy()),
  );

  it('sweeps entries once they expire, read or not, and keeps live ones', async () => {
    const before = store.size;
    await store.revokeToken('short-lived', 10_000);
    await store.revokeToken('long-lived', 1_000_000);
    expect(store.size).toBe(before + 2);
    clock.advance(11);
    store.sweep();
    expect(maps.t.has('short-lived')).toBe(false);
    expect(maps.t.has('long-lived')).toBe(true);
  });
});

describeWithRedis('RedisRevocationStore', () => {
  const prefix = testPrefix();
  let store: RedisRevocationStore;
  let inspector: Redis;

  revocationStoreContract(
    async () => {
      store = new RedisRevocationStore({ redis: REDIS_URL, keyPrefix: prefix, timeoutMs: 1000 });
      await store.onModuleInit();
      inspector = new Redis(REDIS_URL);
      return {
        store,
        clock: new TestClock(),
        ttlOf: async (kind, id) => {
          const ttl = await inspector.pttl(`${prefix}${kind}:${id}`);
          return ttl < 0 ? undefined : ttl;
        },
      };
    },
    async () => {
      await deleteKeys(prefix);
      await store.onModuleDestroy();
      inspector.disconnect();
    },
  );

  it('keeps every key under its prefix', async () => {
    await store.revokeToken('prefixed', 10_000);
    expect(await inspector.exists(`${prefix}t:prefixed`)).toBe(1);
  });
});
