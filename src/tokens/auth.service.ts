import { Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, randomBytes } from 'node:crypto';
import { ACCESS_TOKEN_TYP, RANDOM_ID_BYTES, REFRESH_TOKEN_TYP } from '../auth.constants';
import type { AuthUser } from '../auth-options.interface';
import { AuthConfig } from '../auth-options.validate';
import { AuthConfigError, AuthError, InvalidTokenError } from '../errors/auth.errors';
import { revokedError, RevocationService } from '../revocation/revocation.service';
import type { Successor } from '../revocation/revocation-store';
import {
  RESERVED_CLAIMS,
  type AuthPrincipal,
  type TokenClaims,
  type TokenPair,
  type TokenUse,
} from './token-claims.interface';
import { TokenVerifier } from './token.verifier';
import { CookieTransport, type CookieSessionBody } from '../cookies/cookie-transport';
import { extractBearerToken } from '../jwt/bearer-token';
import { AuditService } from '../audit/audit.service';
import type { ClientRequest } from '../common/client';
import { ClientResolver } from '../context/client-resolver';
import { RateLimitService } from '../rate-limit/rate-limit.service';

/** A renewed access token and when it expires (epoch seconds). */
export interface Renewal {
  token: string;
  expiresAt: number;
}

export const randomId = (): string => randomBytes(RANDOM_ID_BYTES).toString('base64url');

/** The access token jti of a pair: derived, so a replayed pair is the same pair; one-way, so an access token never tells its refresh jti. */
const accessJtiOf = (refreshJti: string): string =>
  createHash('sha256')
    .update(`access:${refreshJti}`)
    .digest()
    .subarray(0, RANDOM_ID_BYTES)
    .toString('base64url');

/** Issues token pairs, rotates refresh tokens, and ends sessions. */
@Injectable()
export class AuthService {
  private readonly logger = new Logger('AuthService');
  /**
   * Renewals by the jti they replace, kept while that token lives (`until`, epoch seconds):
   * concurrent requests share one. Bounded by the tokens renewed in one renewal window.
   */
  private readonly renewals = new Map<
    string,
    { renewal: Promise<Renewal | undefined>; until: number }
  >();

  constructor(
    private readonly config: AuthConfig,
    private readonly jwt: JwtService,
    private readonly verifier: TokenVerifier,
    private readonly revocation: RevocationService,
    private readonly limits: RateLimitService,
    private readonly audit: AuditService,
    private readonly clients: ClientResolver,
    private readonly cookies: CookieTransport,
  ) {}

  /**
   * Checks credentials through `validateCredentials` and opens a new session. Pass the request so
   * that lockout and audit events know the client; locked usernames get 429 AUTH_LOGIN_LOCKED.
   */
  async login(username: string, password: string, request?: ClientRequest): Promise<TokenPair> {
    const { validateCredentials } = this.config.options;
    if (!validateCredentials)
      throw new AuthConfigError(['validateCredentials is required to log in']);
    const client = request ? this.clients.of(request) : { ip: 'unknown' };
    const subject = await this.limits.loginAttempt(username, client, request);
    const user = await validateCredentials(username, password);
    if (!user) {
      // One answer for an unknown user and a wrong password, so neither can be told apart.
      const error = new AuthError('AUTH_INVALID_CREDENTIALS', 401, 'Invalid username or password');
      throw this.audit.failed('login.failed', error, { request });
    }
    if (subject) await this.limits.loginSucceeded(username, subject, client);
    const sid = randomId();
    const refresh = { jti: randomId(), issuedAtMs: this.config.clock.now() };
    await this.revocation.startSession(sid, refresh.jti);
    this.audit.emit('login.succeeded', { token: { sub: user.sub, sid }, request });
    const authTime = Math.floor(refresh.issuedAtMs / 1000);
    return this.issuePair(user, sid, refresh, authTime, 'token.issued', request);
  }

  /**
   * Exchanges a refresh token for a new pair in the same session (RFC 9700 section 4.14.2): each
   * refresh token works once, and presenting a used one revokes the whole session.
   */
  async refresh(refreshToken: string, request?: ClientRequest): Promise<TokenPair> {
    return this.rotate(this.verifier.verify(refreshToken, 'refresh'), request);
  }

  /** `refresh` once the token is verified. */
  private async rotate(claims: TokenClaims, request?: ClientRequest): Promise<TokenPair> {
    // The absolute cap holds for refreshes too, or activity would keep a session alive forever.
    if (this.sessionDeadline(claims) <= this.config.clock.now() / 1000) {
      throw new InvalidTokenError(
        'AUTH_SESSION_EXPIRED',
        'The session reached its maximum age; log in again',
      );
    }
    // The app's suspicious-activity check sees refreshes too: a stolen refresh token is the prize.
    if (request) {
      const { sub, sid, jti, roles } = claims;
      await this.inspect({ sub, sid, jti, roles, claims }, request);
    }
    const next = { jti: randomId(), issuedAtMs: this.config.clock.now() };
    const result = await this.revocation.rotate(claims, next);
    if (result.outcome === 'reused') {
      const error = new InvalidTokenError(
        'AUTH_REFRESH_REUSED',
        'This refresh token was already used; the session is ended',
      );
      throw this.audit.failed('refresh.reused', error, { token: claims, request });
    }
    if (result.outcome !== 'rotated' && result.outcome !== 'replayed') throw revokedError();
    const user = await this.findUser(claims);
    const event = result.outcome === 'rotated' ? 'token.refreshed' : 'refresh.replayed';
    return this.issuePair(user, claims.sid, result.successor, authTime(claims), event, request);
  }

  /**
   * A refresh endpoint in one call: the refresh token from `Authorization: Bearer`, else
   * `bodyToken`, else its cookie (then with the session's CSRF token, as every
   * cookie-authenticated POST needs), rotated by `refresh`, and delivered as a login is
   * (`CookieTransport.deliver`: the cookies and a page's body in cookie mode, else the pair).
   */
  async refreshRequest(
    request: ClientRequest & { method?: string },
    response: unknown,
    bodyToken?: string,
  ): Promise<TokenPair | CookieSessionBody> {
    const fromCookie = this.cookies.refreshToken(request);
    const token = extractBearerToken(request) ?? bodyToken ?? fromCookie;
    if (!token) {
      throw new AuthError(
        'AUTH_TOKEN_MISSING',
        401,
        'A refresh token is required: Authorization: Bearer <token>',
      );
    }
    // Verified once: the CSRF check of a cookie-borne token needs its session first.
    const claims = this.verifier.verify(token, 'refresh');
    if (token === fromCookie) this.cookies.assertCsrf(request, claims.sid);
    return this.cookies.deliver(response, await this.rotate(claims, request));
  }

  /**
   * A fresh access token for the principal's session when its token is about to expire (sliding
   * sessions), else undefined. Never past `auth_time` plus the session's max age, and only while
   * the store still holds the session's live record: a store that lost it (wiped, evicted, a
   * restarted memory store) no longer knows whether the session was logged out, so the token
   * lives only until its own `exp`. Requests that arrive together with one old token share one
   * new token (per process; across instances each mints its own, which is harmless: all belong
   * to the same session and die with it).
   */
  renewAccessToken(
    principal: AuthPrincipal,
    request?: ClientRequest,
  ): Promise<Renewal | undefined> | undefined {
    const { sliding, clock } = this.config;
    const { claims } = principal;
    const now = clock.now() / 1000;
    if (!sliding || claims.exp - now >= sliding.renewWithinSeconds) return undefined;
    const deadline = this.sessionDeadline(claims);
    if (now >= deadline) return undefined;
    const shared = this.renewals.get(claims.jti);
    if (shared) return shared.renewal;
    for (const [jti, { until }] of this.renewals) if (until <= now) this.renewals.delete(jti);
    const renewal = this.mintRenewal(principal, deadline, request);
    this.renewals.set(claims.jti, { renewal, until: claims.exp });
    // Only a token is shared: after no renewal (no live session), the next request asks again.
    const forget = () => this.renewals.delete(claims.jti);
    renewal.then((minted) => minted ?? forget(), forget);
    return renewal;
  }

  private async mintRenewal(
    principal: AuthPrincipal,
    deadline: number,
    request: ClientRequest | undefined,
  ): Promise<Renewal | undefined> {
    const { claims } = principal;
    if (!(await this.revocation.sessionLive(claims.sid))) return undefined;
    const now = this.config.clock.now() / 1000;
    const user = principal.user ?? { sub: principal.sub, roles: principal.roles };
    const ttl = Math.min(this.config.accessTokenTtlSeconds, Math.floor(deadline - now));
    const jti = randomId();
    this.audit.emit('token.issued', { token: { sub: user.sub, sid: claims.sid, jti }, request });
    return {
      token: this.sign('access', user, claims.sid, jti, ttl, authTime(claims)),
      expiresAt: Math.floor(now) + ttl,
    };
  }

  /** The verified caller of an access token: refused if revoked, or if the app's user check says no. */
  async principalFor(claims: TokenClaims): Promise<AuthPrincipal> {
    await this.revocation.assertActive(claims);
    const user = await this.findUser(claims);
    const { sub, sid, jti } = claims;
    return {
      sub,
      sid,
      jti,
      roles: user.roles,
      claims,
      ...(this.config.options.findUser && { user }),
    };
  }

  /** Ends the principal's session: its tokens, and any later issued for it, are refused. */
  async logout(principal: AuthPrincipal, request?: ClientRequest): Promise<void> {
    await this.revocation.revokeSession(principal.sid, principal, request);
    markEnded(principal);
  }

  /** Ends every session of the principal's user, on every instance. */
  async logoutAll(principal: AuthPrincipal, request?: ClientRequest): Promise<void> {
    await this.revocation.revokeUser(principal.sub, request);
    markEnded(principal);
  }

  /**
   * Runs the app's `inspectRequest` hook on a verified principal: `'refuse'` refuses the request,
   * `'revoke'` also ends the session.
   */
  async inspect(principal: AuthPrincipal, request: ClientRequest): Promise<void> {
    const { inspectRequest } = this.config.options;
    const verdict = inspectRequest && (await inspectRequest(principal, request));
    if (verdict !== 'refuse' && verdict !== 'revoke') return;
    if (verdict === 'revoke') await this.logout(principal, request);
    throw new InvalidTokenError('AUTH_TOKEN_REFUSED', 'The token was refused for this request');
  }

  /** Whether this request's principal logged out: its response must not renew the session. */
  hasEnded(principal: AuthPrincipal): boolean {
    return (principal as Partial<Record<typeof SESSION_ENDED, true>>)[SESSION_ENDED] === true;
  }

  /** When the session must end (epoch seconds): `auth_time` plus the max age, with sliding sessions on. */
  private sessionDeadline(claims: Pick<TokenClaims, 'auth_time' | 'iat'>): number {
    const { sliding } = this.config;
    return sliding ? authTime(claims) + sliding.sessionMaxAgeSeconds : Number.POSITIVE_INFINITY;
  }

  /**
   * The pair for `refresh` (a new session's first, or a rotation's successor), a function of it
   * alone: the access jti is derived from the refresh jti and both are signed at its issue time,
   * so a replay within the grace window gets the very same pair (the same strings, with a
   * deterministic algorithm), and the session's family never forks.
   */
  private issuePair(
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

  private sign(
    use: TokenUse,
    user: AuthUser,
    sid: string,
    jti: string,
    ttlSeconds: number,
    authTime: number,
    nowMs = this.config.clock.now(),
  ): string {
    const now = Math.floor(nowMs / 1000);
    const custom = use === 'access' ? this.customClaims(user) : {};
    const claims: TokenClaims = {
      ...custom,
      iss: this.config.issuer,
      aud: this.config.audience,
      sub: user.sub,
      // Milliseconds (RFC 7519 allows fractional NumericDates): a login in the same second as a
      // "logout everywhere" must still be told apart from the tokens it revoked.
      iat: nowMs / 1000,
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

  /** The app's current view of the user (`findUser`), or the token's when there is no hook. */
  private async findUser(claims: TokenClaims): Promise<AuthUser> {
    const { findUser } = this.config.options;
    if (!findUser) return { sub: claims.sub, roles: claims.roles };
    const user = await findUser(claims.sub);
    if (!user) {
      throw new InvalidTokenError(
        'AUTH_USER_INACTIVE',
        'The account behind this token is not active',
      );
    }
    return user;
  }
}

/**
 * Set on a request's principal (one object per request) when the request ends its session: the
 * mark lives and dies with the request, not in this singleton. A symbol, so no claim or field of
 * the app's can collide with it, and it stays out of JSON.
 */
const SESSION_ENDED = Symbol('tokenguard.sessionEnded');
const markEnded = (principal: AuthPrincipal): void => {
  Object.defineProperty(principal, SESSION_ENDED, { value: true });
};

/** Login time of a session; tokens from elsewhere without `auth_time` count from their `iat`. */
const authTime = (claims: Pick<TokenClaims, 'auth_time' | 'iat'>): number =>
  claims.auth_time ?? Math.floor(claims.iat);
