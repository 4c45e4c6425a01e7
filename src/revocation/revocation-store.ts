/** What a revocation check needs to know about one verified token. */
export interface TokenRef {
  jti: string;
  sid: string;
  sub: string;
  /** Issue time in milliseconds: compared with a user's "revoked before" mark. */
  issuedAtMs: number;
}

/**
 * A session and its user: stores may keep a user's keys together (the Redis stores hash-tag them
 * per user, so that a Redis Cluster serves each check and script from one slot).
 */
export interface SessionRef {
  sid: string;
  sub: string;
}

/** The refresh token a rotation hands out: its jti and issue time, all it takes to sign it again. */
export interface Successor {
  jti: string;
  issuedAtMs: number;
}

/**
 * Outcome of presenting a refresh token: `rotated` (first use: the session now expects
 * `successor`), `replayed` (the token was rotated less than the grace window ago: the same
 * `successor` again, and nothing changes), `reused` (used before that: the whole session has just
 * been revoked), `revoked` (the token, its session or its user was revoked before), `unknown`
 * (the store has no record of the session).
 */
export type RotationResult =
  | { outcome: 'rotated' | 'replayed'; successor: Successor }
  | { outcome: 'reused' | 'revoked' | 'unknown' };

/**
 * Keeps what is revoked, shared by every app instance. Every method is atomic: two instances
 * calling `rotate` with the same token at once get `rotated` once. TTLs are milliseconds and
 * should be the time the refused tokens could still be valid; implementations must not drop a
 * live entry to make room. A store that cannot answer rejects: callers then fail closed.
 */
export abstract class RevocationStore {
  /**
   * True when every call settles within the configured timeout by itself (the memory store
   * cannot hang; the Redis store's client has a command timeout and no offline queue). Other
   * stores get a timer per call from RevocationService.
   */
  readonly boundsItsCalls: boolean = false;

  /** What the store runs on, for the start-up log line; never a password. */
  describe(): string {
    return `a custom store (${this.constructor.name})`;
  }

  /** True if the token, its session, or every token its user held before `issuedAtMs`, is revoked. One round trip. */
  abstract isRevoked(token: TokenRef): Promise<boolean>;

  /** Records a new session whose valid refresh token is `refreshJti`. */
  abstract startSession(session: SessionRef, refreshJti: string, ttlMs: number): Promise<void>;

  /**
   * Uses refresh token `token` once: if it is the session's current one and nothing is revoked,
   * `next` becomes current (its issue time is now, the caller's clock). If it is the one `next`
   * replaced less than `graceMs` ago, the current successor is handed out again (a retry, or two
   * tabs at once); if it was used before that, the session is revoked (reuse detection). The
   * record keeps ids and a time, never a token: see `sessionRecord`.
   */
  abstract rotate(
    token: TokenRef,
    next: Successor,
    ttlMs: number,
    graceMs: number,
  ): Promise<RotationResult>;

  /** Revokes one token (its `jti`, of user `sub`) for `ttlMs`. */
  abstract revokeToken(token: Pick<TokenRef, 'jti' | 'sub'>, ttlMs: number): Promise<void>;

  /** Revokes a session: kept as long as its record (its newest refresh token), else `ttlMs`. */
  abstract revokeSession(session: SessionRef, ttlMs: number): Promise<void>;

  /** Revokes every token of `sub` issued at or before `beforeMs`; a later mark never moves back. */
  abstract revokeUser(sub: string, beforeMs: number, ttlMs: number): Promise<void>;

  /**
   * Whether the store holds a live (not revoked) record of the session. Sliding renewal asks
   * before extending a session, so that a store that lost its records (wiped, evicted, restarted
   * in memory) cannot stretch tokens it no longer knows were logged out. The default, for stores
   * written before this method, answers true: renewal then works as it did.
   */
  hasLiveSession(session: SessionRef): Promise<boolean> {
    void session;
    return Promise.resolve(true);
  }
}

/** Session record value once revoked; any other value is the current refresh token's jti. */
export const REVOKED = '!';

/**
 * A session's record after a rotation: its current refresh jti, the one it replaced, and when
 * (ms), which is what a replay within the grace window needs. jtis are base64url, so a space
 * separates them. The Lua scripts read and write the same form.
 */
export const sessionRecord = (current: string, previous: string, atMs: number): string =>
  `${current} ${previous} ${atMs}`;

/** The parts of a session record (a record written at login holds only the current jti). */
export function readSessionRecord(record: string): {
  current: string;
  previous?: string;
  atMs?: number;
} {
  const [current = record, previous, at] = record.split(' ');
  return previous === undefined ? { current } : { current, previous, atMs: Number(at) };
}
