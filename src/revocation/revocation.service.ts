import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AuthConfig } from '../auth-options.validate';
import { storeCall } from '../common/store-call';
import { MemoryRevocationStore } from './memory-revocation.store';
import { AuditService } from '../audit/audit.service';
import type { ClientRequest } from '../common/client';
import { AuthConfigError, AuthError, InvalidTokenError } from '../errors/auth.errors';
import type { TokenClaims } from '../tokens/token-claims.interface';
import {
  RevocationStore,
  type RotationResult,
  type SessionRef,
  type Successor,
  type TokenRef,
} from './revocation-store';

/**
 * Revocation for the guard, AuthService and apps. Every store call is bounded by the configured
 * timeout, and a store that fails or does not answer in time refuses the request with 503
 * (AUTH_STORE_UNAVAILABLE) rather than letting a possibly revoked token through. Only checks may
 * fail open, and only when `failOpen` is set; writes never claim success they did not have.
 */
@Injectable()
export class RevocationService implements OnModuleInit {
  private readonly logger = new Logger('RevocationService');

  constructor(
    private readonly store: RevocationStore,
    private readonly config: AuthConfig,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    const readOnly = this.config.revocation.readOnly ? ', read only (revocation.readOnly)' : '';
    this.logger.log(
      `Revocations are kept in ${this.store.describe?.() ?? 'a custom store'}${readOnly}`,
    );
    if (this.config.remoteKeys && this.store instanceof MemoryRevocationStore) {
      this.logger.warn(
        "A resource server (remoteJwks) on its own memory store never sees the auth service's logouts: point revocation.redis at the auth service's Redis",
      );
    }
  }

  /**
   * Whether the store answers now (readiness probes): one bounded read. Never throws.
   */
  async storeAnswers(): Promise<boolean> {
    try {
      await this.call(() => this.store.isRevoked({ jti: '-', sid: '-', sub: '-', issuedAtMs: 0 }));
      return true;
    } catch {
      return false;
    }
  }

  /** Refuses a token that is revoked, alone, by its session, or by its user's logout-everywhere. */
  async assertActive(claims: TokenClaims): Promise<void> {
    let revoked: boolean;
    try {
      revoked = await this.call(() => this.store.isRevoked(tokenRef(claims)));
    } catch (error) {
      if (!this.config.revocation.failOpen) throw error;
      this.logger.warn(
        'Revocation store unavailable: accepting a token unchecked (failOpen is set)',
      );
      return;
    }
    if (revoked) throw revokedError();
  }

  /** Whether the store still knows the session as live; false too when it cannot answer. */
  async sessionLive(session: SessionRef): Promise<boolean> {
    try {
      return await this.call(() => this.store.hasLiveSession(session));
    } catch {
      return false;
    }
  }

  /** Records a new session and its first refresh token. */
  startSession(session: SessionRef, refreshJti: string): Promise<void> {
    return this.write(() => this.store.startSession(session, refreshJti, this.sessionTtlMs()));
  }

  /** Uses a refresh token once, or replays its successor within the grace window; see RotationResult. */
  rotate(claims: TokenClaims, next: Successor): Promise<RotationResult> {
    const graceMs = this.config.refreshGraceSeconds * 1000;
    return this.write(() =>
      this.store.rotate(tokenRef(claims), next, this.sessionTtlMs(), graceMs),
    );
  }

  /** Revokes one token until it expires. `request` names the client in the audit event. */
  async revokeToken(
    claims: Pick<TokenClaims, 'jti' | 'exp' | 'sub'> & Partial<Pick<TokenClaims, 'sid'>>,
    request?: ClientRequest,
  ): Promise<void> {
    const ttlMs = claims.exp * 1000 - this.config.clock.now() + this.leewayMs();
    if (ttlMs > 0) await this.write(() => this.store.revokeToken(claims, ttlMs));
    this.audit.emit('token.revoked', { token: claims, request });
  }

  /** Ends a session: every token it holds or would be issued is refused. */
  async revokeSession(
    token: Pick<TokenClaims, 'sid' | 'sub'> & Partial<Pick<TokenClaims, 'jti'>>,
    request?: ClientRequest,
  ): Promise<void> {
    await this.write(() => this.store.revokeSession(token, this.sessionTtlMs()));
    const { sub, sid, jti } = token;
    this.audit.emit('session.revoked', { token: { sub, sid, jti }, request });
  }

  /** Refuses every token of `sub` issued until now, on every instance (disable an account, logout everywhere). */
  async revokeUser(sub: string, request?: ClientRequest): Promise<void> {
    await this.write(() =>
      this.store.revokeUser(sub, this.config.clock.now(), this.sessionTtlMs()),
    );
    this.audit.emit('logout.everywhere', { token: { sub }, request });
  }

  /** The longest a token issued now can stay valid: a refresh token's lifetime plus the leeway. */
  private sessionTtlMs(): number {
    return this.config.refreshTokenTtlSeconds * 1000 + this.leewayMs();
  }

  private leewayMs(): number {
    return this.config.clockToleranceSeconds * 1000;
  }

  /** A store call that changes something: refused on a read-only configuration. */
  private write<T>(operation: () => Promise<T>): Promise<T> {
    if (this.config.revocation.readOnly) {
      return Promise.reject(
        new AuthConfigError([
          'revocation.readOnly is set: this service only reads revocations; logins, refreshes and logouts belong to the auth service',
        ]),
      );
    }
    return this.call(operation);
  }

  private call<T>(operation: () => Promise<T>): Promise<T> {
    return storeCall(operation, this.config.revocation.timeoutMs, this.store.boundsItsCalls);
  }
}

export const tokenRef = (claims: TokenClaims): TokenRef => ({
  jti: claims.jti,
  sid: claims.sid,
  sub: claims.sub,
  issuedAtMs: issuedAtMs(claims),
});

export const revokedError = (): AuthError =>
  new InvalidTokenError('AUTH_TOKEN_REVOKED', 'The token has been revoked');

/**
 * When a token was issued, in milliseconds: its `iat_ms` (TokenGuard's tokens; `checkClaims`
 * holds it to its `iat` second), else its `iat`. A whole second from another issuer counts from
 * its start, so a logout everywhere within that second revokes it: the safe side.
 */
const issuedAtMs = ({ iat, iat_ms: ms }: TokenClaims): number =>
  typeof ms === 'number' ? ms : Math.round(iat * 1000);
