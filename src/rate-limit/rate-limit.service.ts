import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AuthConfig } from '../auth-options.validate';
import { AuditService } from '../audit/audit.service';
import type { ClientInfo, ClientRequest } from '../common/client';
import { storeCall } from '../common/store-call';
import { TooManyRequestsError } from '../errors/auth.errors';
import { BLOCK, RateLimitStore, type HitCount } from './rate-limit.store';

/** What a failing-open store call answers: nothing counted, nothing blocked. */
const NOT_COUNTED: HitCount = { hits: 0, windowLeftMs: 0, blockedMs: 0, blockStarted: false };

/** How long a successful login makes its address "known" for that username. */
const KNOWN_CLIENT_MS = 30 * 24 * 3600 * 1000;
/** Locks are counted (and so doubled) over a day. */
const LOCK_HISTORY_MS = 24 * 3600 * 1000;

/**
 * Counters for the rate-limit guard, and login lockout. Every store call is bounded; a store that
 * cannot answer refuses with 503 unless `rateLimit.failOpen` is set.
 *
 * Lockout counts failed logins per username from every address together (credential stuffing
 * spreads over many), and locks the username for a time that doubles with each lock, up to a
 * cap. So that an attacker cannot keep a user locked out for good, an address the user logged in
 * from successfully is exempt from that lock and counted on its own (username + address) instead.
 */
@Injectable()
export class RateLimitService {
  private readonly logger = new Logger('RateLimitService');

  constructor(
    private readonly store: RateLimitStore,
    private readonly config: AuthConfig,
    private readonly audit: AuditService,
  ) {}

  /** A hit on a rate-limit counter; unlimited while the store is down only with `failOpen`. */
  hit(key: string, windowMs: number, limit: number, blockMs: number): Promise<HitCount> {
    return this.guarded(() => this.store.hit(key, windowMs, limit, blockMs), {
      ...NOT_COUNTED,
      windowLeftMs: windowMs,
    });
  }

  /**
   * Counts a login attempt before its password is checked (so that concurrent attempts cannot
   * all slip in before the first failure is counted) and refuses it with 429 while the username
   * is locked. A success takes its attempt back (`loginSucceeded`), so only failures add up.
   * Resolves the lockout subject to pass to `loginSucceeded`.
   */
  async loginAttempt(
    username: string,
    client: ClientInfo,
    request?: ClientRequest,
  ): Promise<string | undefined> {
    const { lockout } = this.config.rateLimit;
    if (!lockout) return undefined;
    const subject = await this.subject(username, client);
    const key = `fail:${subject}`;
    const { windowSeconds, maxFailures, lockSeconds, maxLockSeconds } = lockout;
    // The attempt past maxFailures starts the lock, atomically with the count.
    const attempt = await this.guarded(
      () => this.store.hit(key, windowSeconds * 1000, maxFailures, lockSeconds * 1000),
      NOT_COUNTED,
    );
    if (attempt.blockedMs === 0) return subject;
    let lockedMs = attempt.blockedMs;
    if (attempt.blockStarted) {
      // A fresh count after the lock; each lock of the day twice as long as the one before.
      await this.guarded(() => this.store.reset(key), undefined);
      const { hits: locks } = await this.guarded(
        () => this.store.hit(`locks:${subject}`, LOCK_HISTORY_MS, Infinity, 0),
        { ...NOT_COUNTED, hits: 1 },
      );
      const lockMs = Math.min(lockSeconds * 2 ** Math.min(locks - 1, 30), maxLockSeconds) * 1000;
      if (lockMs > lockedMs) {
        await this.guarded(() => this.store.mark(key + BLOCK, lockMs), undefined);
        lockedMs = lockMs;
      }
      this.audit.emit('login.locked', { reason: 'AUTH_LOGIN_LOCKED', request });
    }
    const locked = new TooManyRequestsError(
      'AUTH_LOGIN_LOCKED',
      'Too many failed logins for this account',
      lockedMs,
    );
    throw this.audit.failed('login.failed', locked, { request });
  }

  /** Takes the attempt back and remembers the address as known for this username. */
  async loginSucceeded(username: string, subject: string, client: ClientInfo): Promise<void> {
    await this.guarded(() => this.store.reset(`fail:${subject}`), undefined);
    const known = `known:${userKey(username)}:${client.ip}`;
    await this.guarded(() => this.store.mark(known, KNOWN_CLIENT_MS), undefined);
  }

  /** The username alone, or username + address for an address the user logged in from before. */
  private async subject(username: string, client: ClientInfo): Promise<string> {
    const user = userKey(username);
    const known = await this.guarded(() => this.store.markedFor(`known:${user}:${client.ip}`), 0);
    return known > 0 ? `${user}:${client.ip}` : user;
  }

  private async guarded<T>(operation: () => Promise<T>, whenOpen: T): Promise<T> {
    try {
      return await this.call(operation);
    } catch (error) {
      if (!this.config.rateLimit.failOpen) throw error;
      this.logger.warn('Rate-limit store unavailable: not counted (failOpen is set)');
      return whenOpen;
    }
  }

  private call<T>(operation: () => Promise<T>): Promise<T> {
    return storeCall(operation, this.config.rateLimit.timeoutMs, this.store.boundsItsCalls);
  }
}

/** Usernames as keys: case- and width-folded so `Alice` counts with `alice`, hashed so any length fits. */
function userKey(username: string): string {
  return createHash('sha256')
    .update(username.normalize('NFKC').trim().toLowerCase())
    .digest('base64url')
    .slice(0, 22);
}
