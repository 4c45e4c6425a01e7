import { randomBytes } from 'node:crypto';
import { resolveAuthConfig } from '../auth-options.validate';
import { Clock } from '../common/clock';
import { VerifiedTokenCache } from './verified-token.cache';

class ManualClock extends Clock {
  current = 1_800_000_000_000;
  now = () => this.current;
}

const decoded = { header: { alg: 'HS256' }, payload: {} };

function cacheOf(size?: number) {
  const clock = new ManualClock();
  const config = resolveAuthConfig({
    secret: randomBytes(32),
    issuer: 'i',
    audience: 'a',
    clock,
    verifiedTokenCacheSize: size,
  });
  return { cache: new VerifiedTokenCache(config), clock };
}

describe('VerifiedTokenCache', () => {
  it('never keeps an entry past exp plus the leeway', () => {
    const { cache, clock } = cacheOf();
    cache.set('t', decoded, 1_800_000_060);
    clock.current += 89_000;
    expect(cache.get('t')).toBeDefined();
    clock.current += 1_000;
    expect(cache.get('t')).toBeUndefined();
  });

  it('holds at most its size, dropping the oldest first', () => {
    const { cache } = cacheOf(2);
    for (const token of ['a', 'b', 'c']) cache.set(token, decoded, 1_900_000_000);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('never holds more than its size, and keeps at least the newest half', () => {
    for (const size of [1, 2, 3, 4, 7, 10]) {
      const { cache } = cacheOf(size);
      const tokens = Array.from({ length: 5 * size + 3 }, (_, i) => `t${i}`);
      for (const token of tokens) cache.set(token, decoded, 1_900_000_000);
      // Newest first: a hit on one of those is in the newest generation and moves nothing.
      const kept = [...tokens].reverse().filter((token) => cache.get(token) !== undefined);
      expect(kept.length).toBeLessThanOrEqual(size);
      expect(kept.length).toBeGreaterThanOrEqual(Math.max(1, Math.floor(size / 2)));
      expect(kept).toEqual(tokens.slice(-kept.length).reverse());
    }
  });

  it('keeps a token in use while new tokens stream past it', () => {
    const { cache } = cacheOf(10);
    cache.set('hot', decoded, 1_900_000_000);
    for (let i = 0; i < 1_000; i++) {
      cache.set(`t${i}`, decoded, 1_900_000_000);
      if (i % 4 === 0) expect(cache.get('hot')).toBeDefined();
    }
  });

  it('keeps nothing with size 0, and forgets everything on clear', () => {
    const off = cacheOf(0).cache;
    off.set('a', decoded, 1_900_000_000);
    expect(off.get('a')).toBeUndefined();
    const { cache } = cacheOf();
    cache.set('a', decoded, 1_900_000_000);
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
  });
});
