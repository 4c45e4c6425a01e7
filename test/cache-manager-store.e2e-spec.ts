import KeyvRedis, { createKeyv } from '@keyv/redis';
import { createCache } from 'cache-manager';
import { CacheableMemory } from 'cacheable';
import { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { randomUUID } from 'node:crypto';
import { AuthConfigError, CacheManagerRevocationStore } from '../src/index';
import { deleteKeys, describeWithRedis, REDIS_URL, testPrefix } from './support/redis';
import { redisKey, revocationStoreContract } from './support/revocation-store.contract';
import { TestClock } from './support/test-clock';

/** A store on a fresh cache, initialised (its key-name probe done). */
async function storeOn(keyv: Keyv, keyPrefix: string) {
  const store = new CacheManagerRevocationStore(createCache({ stores: [keyv] }), { keyPrefix });
  await store.onModuleInit();
  return store;
}

describeWithRedis.each([
  [
    'plain createKeyv',
    () => createKeyv(REDIS_URL, { throwOnErrors: true, connectionTimeout: 1000 }),
    (key: string) => key,
  ],
  [
    'a namespaced createKeyv',
    () => createKeyv(REDIS_URL, { throwOnErrors: true, connectionTimeout: 1000, namespace: 'ns' }),
    (key: string) => `ns::${key}`,
  ],
  [
    'a namespaced Keyv around KeyvRedis',
    () =>
      new Keyv(new KeyvRedis(REDIS_URL, { throwOnErrors: true, connectionTimeout: 1000 }), {
        namespace: 'kv',
        throwOnErrors: true,
      }),
    (key: string) => `kv::kv:${key}`,
  ],
])('CacheManagerRevocationStore on @keyv/redis (%s)', (_name, makeKeyv, rawKey) => {
  const prefix = testPrefix();
  let keyv: Keyv;
  let store: CacheManagerRevocationStore;
  let inspector: Redis;

  revocationStoreContract(
    async () => {
      keyv = makeKeyv();
      store = await storeOn(keyv, prefix);
      inspector = new Redis(REDIS_URL);
      return {
        store,
        clock: new TestClock(),
        ttlOf: async (kind, sub, id = '') => {
          const ttl = await inspector.pttl(rawKey(redisKey(prefix, kind, sub, id)));
          return ttl < 0 ? undefined : ttl;
        },
      };
    },
    async () => {
      await deleteKeys(rawKey(prefix));
      await keyv.disconnect();
      inspector.disconnect();
    },
  );

  it("writes Keyv's envelope, which Keyv (and so cache-manager) reads back", async () => {
    const sid = randomUUID();
    await store.startSession({ sid, sub: 'u' }, 'first', 60_000);
    const next = { jti: 'second', issuedAtMs: Date.now() };
    await store.rotate({ jti: 'first', sid, sub: 'u', issuedAtMs: Date.now() }, next, 60_000, 0);
    const raw = JSON.parse(
      (await inspector.get(rawKey(redisKey(prefix, 's', 'u', sid)))) ?? '{}',
    ) as {
      value: string;
      expires: number;
    };
    expect(raw.value).toBe(`second first ${next.issuedAtMs}`);
    expect(raw.expires).toBeGreaterThan(Date.now() + 55_000);
    expect(await keyv.get(redisKey(prefix, 's', 'u', sid))).toBe(raw.value);
    await store.revokeUser('u', 1_700_000_000_000, 60_000);
    expect(await keyv.get(redisKey(prefix, 'u', 'u', ''))).toBe('1700000000000');
  });
});

describe('CacheManagerRevocationStore refuses caches that would fail open or forget', () => {
  const refusal = (cache: unknown, allowInMemory = false) =>
    CacheManagerRevocationStore.problems(cache, { keyPrefix: 'tg:', allowInMemory }).join('\n') ||
    'accepted';

  it.each([
    ['something that is no cache', { get: () => undefined }, /must be a cache-manager 7 cache/],
    [
      'layered stores',
      { stores: [new Keyv({ throwOnErrors: true }), new Keyv({ throwOnErrors: true })] },
      /has 2 stores/,
    ],
    ['a Keyv that swallows errors', { stores: [new Keyv()] }, /throwOnErrors: true/],
    [
      'an in-memory Keyv without the opt-in',
      { stores: [new Keyv({ throwOnErrors: true })] },
      /allowInMemoryCache/,
    ],
    [
      'an LRU-bounded memory store',
      {
        stores: [new Keyv({ store: new CacheableMemory({ lruSize: 1000 }), throwOnErrors: true })],
      },
      /LRU store would evict/,
    ],
    [
      'a namespace the key prefix starts with',
      { stores: [new Keyv({ namespace: 'tg', throwOnErrors: true })] },
      /starts with the cache's Keyv namespace/,
    ],
  ])('refuses %s', (_name, cache, message) => {
    expect(refusal(cache, _name.startsWith('a namespace'))).toMatch(message);
  });

  it('refuses @keyv/redis without throwOnErrors on the adapter', async () => {
    const keyv = createKeyv(REDIS_URL);
    keyv.throwOnErrors = true; // Keyv throws, but the adapter still swallows
    expect(refusal({ stores: [keyv] })).toMatch(/adapter swallows errors/);
    await keyv.disconnect();
  });

  it('accepts an in-memory Keyv with the opt-in, for the memory store to stand in for', () => {
    const cache = { stores: [new Keyv({ throwOnErrors: true })] };
    expect(refusal(cache, true)).toBe('accepted');
    // The store itself runs only on @keyv/redis; AuthModule picks the memory store for this one.
    expect(() => new CacheManagerRevocationStore(cache, { keyPrefix: 'tg:' })).toThrow(
      AuthConfigError,
    );
  });
});
