import type { OnModuleDestroy } from '@nestjs/common';
import type { Clock } from '../common/clock';

/** What a hit on a counter found: hits in the current window, time left in it, and any block. */
export interface HitCount {
  hits: number;
  windowLeftMs: number;
  /** How long the key stays blocked; 0 when it is not. */
  blockedMs: number;
  /** True for the one hit that started the block. */
  blockStarted: boolean;
}

/**
 * Counters behind rate limits and login lockout, shared by every instance when they live in
 * Redis. Each call must be atomic: two instances counting the same key see distinct counts.
 */
export abstract class RateLimitStore {
  /** True when every call settles within the configured timeout by itself. */
  readonly boundsItsCalls: boolean = false;

  /**
   * Counts a hit on `key` in a fixed window of `windowMs`; the hit that exceeds `limit` blocks
   * the key for `blockMs`. While the key is blocked, hits are not counted.
   */
  abstract hit(key: string, windowMs: number, limit: number, blockMs: number): Promise<HitCount>;
  /** Sets a mark on `key` that lasts `ttlMs` (a lock, a known client). */
  abstract mark(key: string, ttlMs: number): Promise<void>;
  /** How long the mark on `key` has left; 0 when there is none. */
  abstract markedFor(key: string): Promise<number>;
  /** Forgets the counter of `key`. */
  abstract reset(key: string): Promise<void>;
}

interface Counter {
  hits: number;
  expires: number;
}

/** The default store: one process. Entries expire with their window and are swept. */
export class MemoryRateLimitStore extends RateLimitStore implements OnModuleDestroy {
  override readonly boundsItsCalls = true;
  private readonly counters = new Map<string, Counter>();
  /** Expiry (epoch ms) of each mark; a block of `key` is the mark `key` + BLOCK. */
  private readonly marks = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: Clock,
    sweepIntervalMs = 30_000,
  ) {
    super();
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs).unref();
  }

  hit(key: string, windowMs: number, limit: number, blockMs: number): Promise<HitCount> {
    const now = this.clock.now();
    let counter = this.counters.get(key);
    if (!counter || counter.expires <= now) {
      counter = { hits: 0, expires: now + windowMs };
      this.counters.set(key, counter);
    }
    let blockedMs = this.left(key + BLOCK, now);
    let blockStarted = false;
    if (blockedMs === 0) {
      counter.hits += 1;
      if (counter.hits > limit && blockMs > 0) {
        this.marks.set(key + BLOCK, now + blockMs);
        blockedMs = blockMs;
        blockStarted = true;
      }
    }
    const windowLeftMs = counter.expires - now;
    return Promise.resolve({ hits: counter.hits, windowLeftMs, blockedMs, blockStarted });
  }

  mark(key: string, ttlMs: number): Promise<void> {
    this.marks.set(key, this.clock.now() + ttlMs);
    return Promise.resolve();
  }

  markedFor(key: string): Promise<number> {
    return Promise.resolve(this.left(key, this.clock.now()));
  }

  reset(key: string): Promise<void> {
    this.counters.delete(key);
    return Promise.resolve();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private left(key: string, now: number): number {
    const expires = this.marks.get(key);
    return expires === undefined ? 0 : Math.max(0, expires - now);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, counter] of this.counters)
      if (counter.expires <= now) this.counters.delete(key);
    for (const [key, expires] of this.marks) if (expires <= now) this.marks.delete(key);
  }
}

/** Suffix of the mark that blocks a counter's key. */
export const BLOCK = ':block';
