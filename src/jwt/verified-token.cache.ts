import { Injectable } from '@nestjs/common';
import { AuthConfig } from '../auth-options.validate';
import type { DecodedToken } from './token.verifier';

/**
 * Tokens whose signature passport-jwt has verified, keyed by the exact token string: the same
 * bytes always verify the same way, so a hit skips only the signature. Everything else (type,
 * claims, time, revocation, the user check) still runs on every request. Bounded in size
 * (oldest out first) and an entry never outlives its token's `exp`.
 */
@Injectable()
export class VerifiedTokenCache {
  private readonly entries = new Map<string, DecodedToken & { expiresMs: number }>();
  private readonly maxEntries: number;

  constructor(private readonly config: AuthConfig) {
    this.maxEntries = config.verifiedTokenCacheSize;
    // A key the auth service stopped publishing verifies nothing more, cached tokens included.
    config.remoteKeys?.onRetire(() => this.clear());
  }

  get(token: string): DecodedToken | undefined {
    const entry = this.entries.get(token);
    if (entry && entry.expiresMs <= this.config.clock.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, decoded: DecodedToken, exp: number): void {
    if (this.maxEntries === 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const expiresMs = (exp + this.config.clockToleranceSeconds) * 1000;
    // Every request presenting this token gets these claims: a handler must not change them for the next.
    this.entries.set(token, { ...deepFreeze(decoded), expiresMs });
  }

  /** Forgets every entry: after a key is retired, tokens must be verified again. */
  clear(): void {
    this.entries.clear();
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
