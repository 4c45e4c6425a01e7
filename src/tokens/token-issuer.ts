import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, randomBytes } from 'node:crypto';
import { ACCESS_TOKEN_TYP, RANDOM_ID_BYTES, REFRESH_TOKEN_TYP } from '../auth.constants';
import type { AuthUser } from '../auth-options.interface';
import { AuthConfig } from '../auth-options.validate';
import { AuditService } from '../audit/audit.service';
import type { ClientRequest } from '../common/client';
import { AuthConfigError } from '../errors/auth.errors';
import type { Successor } from '../revocation/revocation-store';
import {
  RESERVED_CLAIMS,
  type TokenClaims,
  type TokenPair,
  type TokenUse,
} from './token-claims.interface';

export const randomId = (): string => randomBytes(RANDOM_ID_BYTES).toString('base64url');

/** The access token jti of a pair: derived, so a replayed pair is the same pair; one-way, so an access token never tells its refresh jti. */
const accessJtiOf = (refreshJti: string): string =>
  createHash('sha256')
    .update(`access:${refreshJti}`)
    .digest()
    .subarray(0, RANDOM_ID_BYTES)
    .toString('base64url');

/** Login time of a session; tokens from elsewhere without `auth_time` count from their `iat`. */
export const authTime = (claims: Pick<TokenClaims, 'auth_time' | 'iat'>): number =>
  claims.auth_time ?? Math.floor(claims.iat);

/** Signs every token TokenGuard hands out, and audits each. Stateless. */
@Injectable()
export class TokenIssuer {
  constructor(
    private readonly config: AuthConfig,
    private readonly jwt: JwtService,
    private readonly audit: AuditService,
  ) {}

  /** When a session must end (epoch seconds): `auth_time` plus the max age, with sliding sessions on. */
  sessionDeadline(claims: Pick<TokenClaims, 'auth_time' | 'iat'>): number {
    const { sliding } = this.config;
    return sliding ? authTime(claims) + sliding.sessionMaxAgeSeconds : Number.POSITIVE_INFINITY;
  }

  /**
   * The pair for `refresh` (a new session's first, or a rotation's successor), a function of it
   * alone: the access jti is derived from the refresh jti and both are signed at its issue time,
   * so a replay within the grace window gets the very same pair (the same strings, with a
   * deterministic algorithm), and the session's family never forks.
   */
  pair(
    user: AuthUser,
    sid: string,
    refresh: Successor,
    authTime: number,
    event: 'token.issued' | 'token.refreshed' | 'refresh.replayed',
    request: ClientRequest | undefined,
  ): TokenPair {
    const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = this.config;
    const accessJti = accessJtiOf(refresh.jti);
    this.audit.emit(event, { token: { sub: user.sub, sid, jti: accessJti }, request });
    const atMs = refresh.issuedAtMs;
    // No token of a capped session may outlive the cap.
    const left =
      this.sessionDeadline({ auth_time: authTime, iat: authTime }) - Math.floor(atMs / 1000);
    const accessTtl = Math.min(accessTokenTtlSeconds, left);
    const refreshTtl = Math.min(refreshTokenTtlSeconds, left);
    return {
      access_token: this.sign('access', user, sid, accessJti, accessTtl, authTime, atMs),
      refresh_token: this.sign('refresh', user, sid, refresh.jti, refreshTtl, authTime, atMs),
      token_type: 'Bearer',
      expires_in: accessTtl,
    };
  }

  /** A lone access token in an existing session (sliding renewal), for `ttlSeconds`; audited by who sends it. */
  access(
    user: AuthUser,
    claims: Pick<TokenClaims, 'sid' | 'auth_time' | 'iat'>,
    ttlSeconds: number,
  ): { token: string; jti: string } {
    const jti = randomId();
    return { token: this.sign('access', user, claims.sid, jti, ttlSeconds, authTime(claims)), jti };
  }

  private sign(
    use: TokenUse,
    user: AuthUser,
    sid: string,
    jti: string,
    ttlSeconds: number,
    authTime: number,
    at = this.config.clock.now(),
  ): string {
    const nowMs = Math.floor(at); // a Clock may give fractions; iat_ms is whole milliseconds
    const now = Math.floor(nowMs / 1000);
    const custom = use === 'access' ? this.customClaims(user) : {};
    const claims: TokenClaims = {
      ...custom,
      iss: this.config.issuer,
      aud: this.config.audience,
      sub: user.sub,
      // Whole seconds, as every JWT library expects (PyJWT refuses a fractional iat as "not yet
      // valid" within its first second); the milliseconds go in iat_ms: a login in the same second
      // as a "logout everywhere" must still be told apart from the tokens it revoked.
      iat: now,
      iat_ms: nowMs,
      nbf: now,
      exp: now + ttlSeconds,
      jti,
      sid,
      token_use: use,
      roles: [...user.roles],
      auth_time: authTime,
    };
    const key = this.config.keys.signing;
    if (!key?.signingKey)
      throw new AuthConfigError([
        'this key ring only verifies (verifyOnly): it cannot issue tokens',
      ]);
    const typ = use === 'access' ? ACCESS_TOKEN_TYP : REFRESH_TOKEN_TYP;
    return this.jwt.sign(claims, {
      algorithm: key.alg,
      secret: key.signingKey as unknown as string,
      header: { alg: key.alg, typ, kid: key.kid },
    });
  }

  private customClaims(user: AuthUser): Record<string, unknown> {
    const extra = this.config.options.additionalClaims?.(user) ?? {};
    return Object.fromEntries(Object.entries(extra).filter(([name]) => !RESERVED_CLAIMS.has(name)));
  }
}
