import { Redis } from 'ioredis';
import { MemoryRevocationStore } from '../src/index';
import { describeWithRedis, REDIS_URL } from './support/redis';
import {
  redisStoreContract,
  revocationStoreContract,
  type StoreUnderTest,
} from './support/revocation-store.contract';
import { TestClock } from './support/test-clock';

describe('MemoryRevocationStore', () => {
  const clock = new TestClock();
  const store = new MemoryRevocationStore(clock);
  // The store's own maps: an expiry alone (revoked tokens and sessions) or an entry that has one.
  const internal = store as unknown as Record<
    'tokens' | 'revokedSessions' | 'sessions' | 'users',
    Map<string, number | { expires: number }>
  >;
  const expiresOf = (kind: 't' | 's' | 'u', id: string): number | undefined => {
    const found =
      kind === 't'
        ? internal.tokens.get(id)
        : kind === 'u'
          ? internal.users.get(id)
          : (internal.sessions.get(id) ?? internal.revokedSessions.get(id));
    return typeof found === 'number' ? found : found?.expires;
  };

  revocationStoreContract(
    () =>
      Promise.resolve<StoreUnderTest>({
        store,
        clock,
        ttlOf: (kind, sub, id) => {
          const expires = expiresOf(kind, kind === 'u' ? sub : (id ?? ''));
          return Promise.resolve(expires && expires * 1000 - clock.now());
        },
      }),
    () => Promise.resolve(store.onModuleDestroy()),
  );

  it('sweeps entries once they expire, read or not, and keeps live ones', async () => {
    const before = store.size;
    await store.revokeToken({ jti: 'short-lived', sub: 'u' }, 10_000);
    await store.revokeToken({ jti: 'long-lived', sub: 'u' }, 1_000_000);
    expect(store.size).toBe(before + 2);
    clock.advance(11);
    store.sweep();
    expect(internal.tokens.has('short-lived')).toBe(false);
    expect(internal.tokens.has('long-lived')).toBe(true);
  });
});

describeWithRedis('RedisRevocationStore', () => {
  const contract = redisStoreContract(
    () => REDIS_URL,
    () => new Redis(REDIS_URL),
  );
  const store = () => contract.store();

  it("keeps every key under its prefix, tagged with its user's hash tag", async () => {
    await store().revokeToken({ jti: 'prefixed', sub: 'ann' }, 10_000);
    expect(await contract.inspector().exists(`${contract.prefix}{ann}:t:prefixed`)).toBe(1);
    // A sub that could end a tag early is encoded: one user, one tag, whatever its name.
    await store().revokeToken({ jti: 'odd', sub: 'a}b{' }, 10_000);
    const odd = `${contract.prefix}{~${Buffer.from('a}b{', 'utf16le').toString('base64url')}}:t:odd`;
    expect(await contract.inspector().exists(odd)).toBe(1);
    // Two subs that differ only in a lone surrogate are two users.
    const { keys } = store() as unknown as { keys: { user(sub: string): string } };
    expect(keys.user('a\uD800')).not.toBe(keys.user('a\uDC00'));
  });

  it('answers the checks of one event-loop turn with one MGET, each with its own answer', async () => {
    await store().revokeToken({ jti: 'batch-revoked', sub: 'batch-user' }, 10_000);
    await store().revokeSession({ sid: 'batch-ended', sub: 'batch-user' }, 10_000);
    const now = Date.now();
    await store().revokeUser('batch-everywhere', now, 10_000);
    const ref = (jti: string, sid = `sid-${jti}`, sub = 'batch-user', issuedAtMs = now) => ({
      jti,
      sid,
      sub,
      issuedAtMs,
    });
    // Counted on the store's own connection: other suites share this Redis server.
    const mget = jest.spyOn((store() as unknown as { client: Redis }).client, 'mget');
    const answers = await Promise.all([
      store().isRevoked(ref('batch-live')),
      store().isRevoked(ref('batch-revoked')),
      store().isRevoked(ref('batch-other', 'batch-ended')),
      store().isRevoked(ref('batch-old', undefined, 'batch-everywhere', now - 1)),
      store().isRevoked(ref('batch-new', undefined, 'batch-everywhere', now + 1)),
    ]);
    expect(answers).toEqual([false, true, true, true, false]);
    expect(mget).toHaveBeenCalledTimes(1);
    mget.mockRestore();
  });
});
