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
