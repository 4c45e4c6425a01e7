import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { closeRedis, connectRedis, whenReady, type RedisClient } from '../common/redis';
import type { RedisConnection } from '../auth-options.interface';
import { taggedKey } from '../common/redis-keys';
import { BLOCK, RateLimitStore, type HitCount } from './rate-limit.store';

// One atomic step, so instances counting the same key never both see the same count.
// KEYS: counter, its block. ARGV: window ms, limit, block ms.
const HIT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), math.max(redis.call('PTTL', KEYS[1]), 0), blocked, 0}
end
local hits = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if hits > tonumber(ARGV[2]) and tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, left, tonumber(ARGV[3]), 1}
end
return {hits, left, 0, 0}`;

type ScriptedRedis = RedisClient & {
  tgHit(
    key: string,
    block: string,
    windowMs: number,
    limit: number,
    blockMs: number,
  ): Promise<number[]>;
};

/** Rate-limit counters in Redis, shared by every instance. */
export class RedisRateLimitStore extends RateLimitStore implements OnModuleInit, OnModuleDestroy {
  private readonly client: ScriptedRedis;
  private readonly ownsClient: boolean;
  override readonly boundsItsCalls: boolean;

  constructor(
    redis: RedisConnection,
    private readonly keyPrefix: string,
    timeoutMs: number,
  ) {
    super();
    const { client, owned, bounded } = connectRedis(redis, timeoutMs);
    this.ownsClient = owned;
    this.boundsItsCalls = bounded;
    client.defineCommand('tgHit', { numberOfKeys: 2, lua: HIT });
    this.client = client as ScriptedRedis;
  }

  async onModuleInit(): Promise<void> {
    if (!(await whenReady(this.client)))
      new Logger('RateLimitStore').error(
        'Redis is not reachable yet: limited routes answer 503 until it is',
      );
  }

  async hit(key: string, windowMs: number, limit: number, blockMs: number): Promise<HitCount> {
    const counter = this.key(key);
    // Lua numbers are doubles: an unlimited counter gets the largest exact one.
    const max = Number.isFinite(limit) ? limit : Number.MAX_SAFE_INTEGER;
    const [hits = 0, windowLeftMs = 0, blockedMs = 0, started = 0] = await this.client.tgHit(
      counter,
      counter + BLOCK,
      windowMs,
      max,
      blockMs,
    );
    return { hits, windowLeftMs, blockedMs, blockStarted: started === 1 };
  }

  async mark(key: string, ttlMs: number): Promise<void> {
    await this.client.set(this.key(key), '1', 'PX', ttlMs);
  }

  async markedFor(key: string): Promise<number> {
    return Math.max(0, await this.client.pttl(this.key(key)));
  }

  async reset(key: string): Promise<void> {
    await this.client.del(this.key(key));
  }

  async onModuleDestroy(): Promise<void> {
    if (this.ownsClient) await closeRedis(this.client);
  }

  /**
   * `<prefix>rl:{<key>}`, and a block (`<key>:block`, which the service also marks itself, for a
   * lockout) `<prefix>rl:{<key>}:block`: a counter and its block share the tag, so the script stays
   * in one slot and every caller names the block alike.
   */
  private key(key: string): string {
    const blocked = key.endsWith(BLOCK);
    const counter = blocked ? key.slice(0, -BLOCK.length) : key;
    return taggedKey(`${this.keyPrefix}rl:`, counter) + (blocked ? BLOCK : '');
  }
}
