import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import {
  RedisRevocationStore,
  type RedisConnection,
  type RevocationStore,
  type RotationResult,
  type Successor,
  type TokenRef,
} from '../../src/index';
import { revocationKeys } from '../../src/common/redis-keys';
import { TestClock } from './test-clock';

export interface StoreUnderTest {
  store: RevocationStore;
  clock: TestClock;
  /**
   * Milliseconds the store will keep a record, or undefined if it holds nothing there: a token
   * (`t`, its user and jti), a session (`s`, its user and sid) or a user's mark (`u`).
   */
  ttlOf(kind: 't' | 's' | 'u', sub: string, id?: string): Promise<number | undefined>;
}

const ref = (overrides: Partial<TokenRef> = {}): TokenRef => ({
  jti: randomUUID(),
  sid: randomUUID(),
  sub: randomUUID(),
  issuedAtMs: Date.now(),
  ...overrides,
});

/** A rotation's successor issued `atMs` (default now). */
const successor = (atMs = Date.now()): Successor => ({ jti: randomUUID(), issuedAtMs: atMs });

/** Every RevocationStore implementation must pass this suite. */
export function revocationStoreContract(
  setup: () => Promise<StoreUnderTest>,
  teardown: () => Promise<void>,
): void {
  let t: StoreUnderTest;
  beforeAll(async () => (t = await setup()));
  /** The outcome of one rotation, without a grace window unless given one. */
  const rotate = async (token: TokenRef, next = successor(), graceMs = 0) =>
    (await t.store.rotate(token, next, 120_000, graceMs)).outcome;
  afterAll(teardown);

  it('knows nothing of a fresh token', async () => {
    expect(await t.store.isRevoked(ref())).toBe(false);
  });

  it('revokes one token id for exactly its TTL', async () => {
    const token = ref();
    await t.store.revokeToken(token, 60_000);
    expect(await t.store.isRevoked(token)).toBe(true);
    expect(await t.store.isRevoked({ ...token, jti: randomUUID() })).toBe(false);
    expect(await t.ttlOf('t', token.sub, token.jti)).toBeGreaterThan(58_000);
    expect(await t.ttlOf('t', token.sub, token.jti)).toBeLessThanOrEqual(61_000);
  });

  it('rotates a session refresh token once, then detects reuse and revokes the session', async () => {
    const first = ref();
    await t.store.startSession(first, first.jti, 120_000);
    expect(await t.store.isRevoked(first)).toBe(false);
    const next = successor();
    expect(await t.store.rotate(first, next, 120_000, 0)).toEqual({
      outcome: 'rotated',
      successor: next,
    });
    expect(await rotate(first)).toBe('reused');
    // The replacement dies with the session.
    expect(await rotate({ ...first, jti: next.jti })).toBe('revoked');
    expect(await t.store.isRevoked({ ...first, jti: randomUUID() })).toBe(true);
  });

  it('hands the same successor to a replay within the grace window, and changes nothing', async () => {
    const first = ref();
    await t.store.startSession(first, first.jti, 120_000);
    const next = successor();
    await t.store.rotate(first, next, 120_000, 30_000);
    for (const after of [0, 1, 30_000]) {
      const replay = await t.store.rotate(
        first,
        successor(next.issuedAtMs + after),
        120_000,
        30_000,
      );
      expect(replay).toEqual({ outcome: 'replayed', successor: next });
    }
    expect(await t.store.isRevoked(first)).toBe(false);
    // The successor is still the one expected next: its holder rotates as usual.
    expect(await rotate({ ...first, jti: next.jti }, successor(), 30_000)).toBe('rotated');
  });

  it('treats a replay after the window as reuse, and revokes the session', async () => {
    const first = ref();
    await t.store.startSession(first, first.jti, 120_000);
    const next = successor();
    await t.store.rotate(first, next, 120_000, 30_000);
    expect(await rotate(first, successor(next.issuedAtMs + 30_001), 30_000)).toBe('reused');
    expect(await rotate({ ...first, jti: next.jti }, successor(), 30_000)).toBe('revoked');
  });

  it('forgets the grace once the successor rotates: the first token is then reuse', async () => {
    const first = ref();
    await t.store.startSession(first, first.jti, 120_000);
    const second = successor();
    await t.store.rotate(first, second, 120_000, 30_000);
    await t.store.rotate({ ...first, jti: second.jti }, successor(), 120_000, 30_000);
    expect(await rotate(first, successor(), 30_000)).toBe('reused');
  });

  it('has no grace with a window of 0', async () => {
    const first = ref();
    await t.store.startSession(first, first.jti, 120_000);
    const next = successor();
    await t.store.rotate(first, next, 120_000, 0);
    expect(await rotate(first, successor(next.issuedAtMs), 0)).toBe('reused');
  });

  it('replays nothing for a session or user revoked since the rotation', async () => {
    const bySession = ref();
    await t.store.startSession(bySession, bySession.jti, 120_000);
    await t.store.rotate(bySession, successor(), 120_000, 30_000);
    await t.store.revokeSession(bySession, 120_000);
    expect(await rotate(bySession, successor(), 30_000)).toBe('revoked');
    const byUser = ref({ issuedAtMs: Date.now() - 1000 });
    await t.store.startSession(byUser, byUser.jti, 120_000);
    await t.store.rotate(byUser, successor(), 120_000, 30_000);
    await t.store.revokeUser(byUser.sub, Date.now(), 120_000);
    expect(await rotate(byUser, successor(), 30_000)).toBe('revoked');
  });

  it('knows which sessions it holds live: started and rotated yes, revoked or unknown no', async () => {
    const token = ref();
    expect(await t.store.hasLiveSession(token)).toBe(false);
    await t.store.startSession(token, token.jti, 60_000);
    expect(await t.store.hasLiveSession(token)).toBe(true);
    await rotate(token);
    expect(await t.store.hasLiveSession(token)).toBe(true);
    await t.store.revokeSession(token, 60_000);
    expect(await t.store.hasLiveSession(token)).toBe(false);
  });

  it('refuses to rotate a session it has no record of', async () => {
    expect(await rotate(ref())).toBe('unknown');
  });

  it('lets exactly one of 50 concurrent rotations of one token win', async () => {
    const token = ref();
    await t.store.startSession(token, token.jti, 60_000);
    const results = await Promise.all(Array.from({ length: 50 }, () => rotate(token)));
    expect(results.filter((r) => r === 'rotated')).toHaveLength(1);
    expect(results.filter((r) => r === 'reused' || r === 'revoked')).toHaveLength(49);
  });

  it('with a grace window, gives 50 concurrent rotations of one token one successor', async () => {
    const token = ref();
    await t.store.startSession(token, token.jti, 60_000);
    const results: RotationResult[] = await Promise.all(
      Array.from({ length: 50 }, () => t.store.rotate(token, successor(), 60_000, 30_000)),
    );
    expect(results.filter((r) => r.outcome === 'rotated')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'replayed')).toHaveLength(49);
    const successors = new Set(results.map((r) => 'successor' in r && JSON.stringify(r.successor)));
    expect(successors.size).toBe(1);
  });

  it('revokes a session for as long as its record lives, or the given TTL when it has none', async () => {
    const live = ref();
    await t.store.startSession(live, live.jti, 30_000);
    await t.store.revokeSession(live, 600_000);
    expect(await t.store.isRevoked(live)).toBe(true);
    expect(await t.ttlOf('s', live.sub, live.sid)).toBeLessThanOrEqual(31_000);
    const unknown = ref();
    await t.store.revokeSession(unknown, 600_000);
    expect(await t.store.isRevoked(unknown)).toBe(true);
    expect(await t.ttlOf('s', unknown.sub, unknown.sid)).toBeGreaterThan(590_000);
    expect(await rotate(unknown)).toBe('revoked');
  });

  it('revokes every token of a user issued up to the mark, and none issued after', async () => {
    const sub = randomUUID();
    const at = Date.now();
    await t.store.revokeUser(sub, at, 60_000);
    expect(await t.store.isRevoked(ref({ sub, issuedAtMs: at - 1 }))).toBe(true);
    expect(await t.store.isRevoked(ref({ sub, issuedAtMs: at }))).toBe(true);
    expect(await t.store.isRevoked(ref({ sub, issuedAtMs: at + 1 }))).toBe(false);
    expect(await t.store.isRevoked(ref({ issuedAtMs: at - 1 }))).toBe(false);
  });

  it('never moves a user mark back, and keeps the longer TTL', async () => {
    const sub = randomUUID();
    const at = Date.now();
    await t.store.revokeUser(sub, at, 600_000);
    await t.store.revokeUser(sub, at - 10_000, 1_000);
    expect(await t.store.isRevoked(ref({ sub, issuedAtMs: at - 1 }))).toBe(true);
    expect(await t.ttlOf('u', sub)).toBeGreaterThan(590_000);
  });

  it('refuses to rotate a refresh token issued before its user was revoked', async () => {
    const token = ref({ issuedAtMs: Date.now() - 1000 });
    await t.store.startSession(token, token.jti, 60_000);
    await t.store.revokeUser(token.sub, Date.now(), 60_000);
    expect(await rotate(token)).toBe('revoked');
  });
}

/** The Redis key of a record (see `src/revocation/redis-keys.ts`). */
export function redisKey(prefix: string, kind: 't' | 's' | 'u', sub: string, id: string): string {
  const keys = revocationKeys(prefix);
  return kind === 't' ? keys.token(sub, id) : kind === 's' ? keys.session(sub, id) : keys.user(sub);
}

/**
 * The contract on a RedisRevocationStore that TokenGuard connects itself (`redis()`: a URL or a
 * Sentinel configuration), its keys read back through `inspector()`, a plain client to the
 * server that holds them. Returns the store and the inspector of the running suite.
 */
export function redisStoreContract(
  redis: () => RedisConnection,
  inspector: () => Redis | Cluster,
): { store(): RedisRevocationStore; inspector(): Redis | Cluster; prefix: string } {
  const prefix = `tokenguard-test:${randomUUID()}:`;
  let store: RedisRevocationStore;
  let client: Redis | Cluster;
  revocationStoreContract(
    async () => {
      store = new RedisRevocationStore({ redis: redis(), keyPrefix: prefix, timeoutMs: 1000 });
      await store.onModuleInit();
      client = inspector();
      return {
        store,
        clock: new TestClock(),
        ttlOf: async (kind, sub, id = '') => {
          const ttl = await client.pttl(redisKey(prefix, kind, sub, id));
          return ttl < 0 ? undefined : ttl;
        },
      };
    },
    async () => {
      // On a Cluster, every master holds some of the keys; each is deleted alone (its own slot).
      const nodes = 'nodes' in client ? client.nodes('master') : [client];
      for (const node of nodes) {
        for (const key of await node.keys(`${prefix}*`)) await client.del(key);
      }
      await store.onModuleDestroy();
      client.disconnect();
    },
  );
  return { store: () => store, inspector: () => client, prefix };
}
