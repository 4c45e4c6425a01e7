import type { OnModuleDestroy } from '@nestjs/common';
import type { Clock } from '../common/clock';
import {
  readSessionRecord,
  RevocationStore,
  sessionRecord,
  type RotationResult,
  type SessionRef,
  type Successor,
  type TokenRef,
} from './revocation-store';

interface Entry<T> {
  value: T;
  /** Epoch seconds, rounded up: a small integer V8 stores inline, which keeps entries small. */
  expires: number;
}

/**
 * The default store: one process, nothing on disk, so a restart forgets every revocation.
 * Written by hand rather than on cache-manager because rotation must compare-and-set without an
 * `await` in between (that is what makes it atomic here), expired entries must be swept even if
 * never read again (Keyv's Map store only drops them on read), and no entry may be evicted to make
 * room. Memory is bounded by expiry alone: see the README for bytes per entry.
 */
export class MemoryRevocationStore extends RevocationStore implements OnModuleDestroy {
  // Revoked tokens and sessions, the bulk of the entries, map an id to its expiry alone: a small
  // integer as the Map's value, with no object around it (about 20 bytes less per entry).
  private readonly tokens = new Map<string, number>();
  private readonly revokedSessions = new Map<string, number>();
  private readonly sessions = new Map<string, Entry<string>>();
  private readonly users = new Map<string, Entry<number>>();
  private readonly sweeper: NodeJS.Timeout;
  override readonly boundsItsCalls = true;

  /** `origin` says, in the start-up line, what configuration chose this store. */
  constructor(
    private readonly clock: Clock,
    private readonly origin?: string,
  ) {
    super();
    this.sweeper = setInterval(() => this.sweep(), 30_000).unref();
  }

  override describe(): string {
    const where = this.origin ? `memory (${this.origin})` : 'memory';
    return `${where}, in this process only: a restart forgets every logout, and other instances never see them`;
  }

  isRevoked(token: TokenRef): Promise<boolean> {
    return Promise.resolve(this.revoked(token));
  }

  startSession({ sid }: SessionRef, refreshJti: string, ttlMs: number): Promise<void> {
    this.sessions.set(sid, this.entry(refreshJti, ttlMs));
    return Promise.resolve();
  }

  rotate(
    token: TokenRef,
    next: Successor,
    ttlMs: number,
    graceMs: number,
  ): Promise<RotationResult> {
    return Promise.resolve(this.rotateNow(token, next, ttlMs, graceMs));
  }

  override hasLiveSession({ sid }: SessionRef): Promise<boolean> {
    return Promise.resolve(this.live(this.sessions, sid) !== undefined);
  }

  revokeToken({ jti }: Pick<TokenRef, 'jti' | 'sub'>, ttlMs: number): Promise<void> {
    this.tokens.set(jti, this.expiry(ttlMs));
    return Promise.resolve();
  }

  revokeSession({ sid }: SessionRef, ttlMs: number): Promise<void> {
    this.endSession(sid, this.live(this.sessions, sid)?.expires ?? this.expiry(ttlMs));
    return Promise.resolve();
  }

  revokeUser(sub: string, beforeMs: number, ttlMs: number): Promise<void> {
    const current = this.live(this.users, sub);
    const entry = this.entry(Math.max(beforeMs, current?.value ?? 0), ttlMs);
    entry.expires = Math.max(entry.expires, current?.expires ?? 0);
    this.users.set(sub, entry);
    return Promise.resolve();
  }

  /** Entries currently held, expired or not: for memory measurements. */
  get size(): number {
    return this.tokens.size + this.revokedSessions.size + this.sessions.size + this.users.size;
  }

  /** Drops every expired entry. Runs on a timer; public so tests and benchmarks can force it. */
  sweep(): void {
    const now = this.nowSeconds();
    for (const map of [this.tokens, this.revokedSessions]) {
      for (const [key, expires] of map) if (expires <= now) map.delete(key);
    }
    for (const map of [this.sessions, this.users] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of map) if (entry.expires <= now) map.delete(key);
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** One synchronous step: nothing can interleave, which is what makes it atomic here. */
  private rotateNow(
    token: TokenRef,
    next: Successor,
    ttlMs: number,
    graceMs: number,
  ): RotationResult {
    if (this.revoked(token)) return { outcome: 'revoked' };
    const session = this.live(this.sessions, token.sid);
    if (!session) return { outcome: 'unknown' };
    const { current, previous, atMs = 0 } = readSessionRecord(session.value);
    if (current === token.jti) {
      const record = sessionRecord(next.jti, token.jti, next.issuedAtMs);
      this.sessions.set(token.sid, this.entry(record, ttlMs));
      return { outcome: 'rotated', successor: next };
    }
    if (previous === token.jti && graceMs > 0 && next.issuedAtMs - atMs <= graceMs) {
      return { outcome: 'replayed', successor: { jti: current, issuedAtMs: atMs } };
    }
    this.endSession(token.sid, session.expires);
    return { outcome: 'reused' };
  }

  /** Revokes a session until `expires` (epoch seconds): its record, if any, is dropped. */
  private endSession(sid: string, expires: number): void {
    this.sessions.delete(sid);
    this.revokedSessions.set(sid, Math.max(expires, this.revokedSessions.get(sid) ?? 0));
  }

  private revoked({ jti, sid, sub, issuedAtMs }: TokenRef): boolean {
    const now = this.nowSeconds();
    if ((this.tokens.get(jti) ?? 0) > now) return true;
    if ((this.revokedSessions.get(sid) ?? 0) > now) return true;
    const mark = this.live(this.users, sub);
    return mark !== undefined && issuedAtMs <= mark.value;
  }

  private live<T>(map: Map<string, Entry<T>>, key: string): Entry<T> | undefined {
    const entry = map.get(key);
    return entry && entry.expires > this.nowSeconds() ? entry : undefined;
  }

  private entry<T>(value: T, ttlMs: number): Entry<T> {
    return { value, expires: this.expiry(ttlMs) };
  }

  /** Epoch seconds `ttlMs` from now, rounded up. */
  private expiry(ttlMs: number): number {
    return Math.ceil((this.clock.now() + ttlMs) / 1000);
  }

  private nowSeconds(): number {
    return this.clock.now() / 1000;
  }
}
