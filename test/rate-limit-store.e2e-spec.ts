import { MemoryRateLimitStore, RedisRateLimitStore, type RateLimitStore } from '../src/index';
import { BLOCK } from '../src/rate-limit/rate-limit.store';
import { deleteKeys, describeWithRedis, REDIS_URL, testPrefix } from './support/redis';
import { TestClock } from './support/test-clock';

/**
 * One contract for every counter store. `wait(ms)` lets the window pass: the test clock for
 * memory, real time (short windows, polled) for Redis, whose TTLs run on its own clock.
 */
function rateLimitStoreContract(
  setup: () => { store: RateLimitStore; wait: (ms: number) => Promise<void> },
): void {
  let store: RateLimitStore;
  let wait: (ms: number) => Promise<void>;
  let n = 0;
  beforeEach(() => ({ store, wait } = setup()));
  const key = () => `key-${++n}`;

  it('counts hits in a window and blocks the hit that exceeds the limit', async () => {
    const k = key();
    for (let i = 1; i <= 3; i++) {
      const hit = await store.hit(k, 60_000, 3, 5_000);
      expect(hit).toMatchObject({ hits: i, blockedMs: 0 });
      expect(hit.windowLeftMs).toBeGreaterThan(59_000);
    }
    const over = await store.hit(k, 60_000, 3, 5_000);
    expect(over.hits).toBe(4);
    expect(over.blockedMs).toBeGreaterThan(4_900);
    // Blocked: not counted.
    expect((await store.hit(k, 60_000, 3, 5_000)).hits).toBe(4);
  });

  it("blocks a counter marked with its block (a lockout's doubling lock)", async () => {
    const k = key();
    await store.mark(k + BLOCK, 60_000);
    expect((await store.hit(k, 60_000, 10, 0)).blockedMs).toBeGreaterThan(59_000);
  });

  it('starts a new window once the old one has passed', async () => {
    const k = key();
    await store.hit(k, 200, 10, 0);
    await store.hit(k, 200, 10, 0);
    await wait(250);
    expect((await store.hit(k, 200, 10, 0)).hits).toBe(1);
  });

  it('counts without limit when the limit is Infinity', async () => {
    const k = key();
    for (let i = 0; i < 5; i++) await store.hit(k, 60_000, Infinity, 1_000);
    expect(await store.hit(k, 60_000, Infinity, 1_000)).toMatchObject({ hits: 6, blockedMs: 0 });
  });

  it('keeps marks for their time, and resets counters', async () => {
    const k = key();
    expect(await store.markedFor(k)).toBe(0);
    await store.mark(k, 200);
    expect(await store.markedFor(k)).toBeGreaterThan(100);
    await wait(250);
    expect(await store.markedFor(k)).toBe(0);
    await store.hit(k, 60_000, 10, 0);
    await store.reset(k);
    expect((await store.hit(k, 60_000, 10, 0)).hits).toBe(1);
  });

  it('gives concurrent hits distinct counts', async () => {
    const k = key();
    const hits = await Promise.all(
      Array.from({ length: 20 }, () => store.hit(k, 60_000, Infinity, 0)),
    );
    expect(new Set(hits.map((h) => h.hits)).size).toBe(20);
  });
}

describe('MemoryRateLimitStore', () => {
  const clock = new TestClock();
  const store = new MemoryRateLimitStore(clock);
  afterAll(() => store.onModuleDestroy());
  rateLimitStoreContract(() => ({
    store,
    wait: (ms) => Promise.resolve(clock.advance(ms / 1000)),
  }));
});

describeWithRedis('RedisRateLimitStore', () => {
  const prefix = testPrefix();
  // Connected in beforeAll: a describe body runs even when its tests are skipped or filtered out.
  let store: RedisRateLimitStore;
  beforeAll(() => {
    store = new RedisRateLimitStore(REDIS_URL, prefix, 1000);
    return store.onModuleInit();
  });
  afterAll(async () => {
    await deleteKeys(prefix);
    await store.onModuleDestroy();
  });
  rateLimitStoreContract(() => ({
    store,
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));
});
