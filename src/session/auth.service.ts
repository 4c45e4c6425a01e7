import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../auth-options.interface';
import { AuthConfig } from '../auth-options.validate';
import { AuthConfigError, AuthError, InvalidTokenError } from '../errors/auth.errors';
import { revokedError, RevocationService } from '../revocation/revocation.service';
import type { AuthPrincipal, TokenClaims, TokenPair } from '../tokens/token-claims.interface';
import { authTime, randomId, TokenIssuer } from '../tokens/token-issuer';
import { TokenVerifier } from '../jwt/token.verifier';
import { markEnded, Principals } from '../jwt/principals';
import { CookieTransport, type CookieSessionBody } from '../cookies/cookie-transport';
import { extractBearerToken } from '../jwt/bearer-token';
import { AuditService } from '../audit/audit.service';
import type { ClientRequest } from '../common/client';
import { ClientResolver } from '../context/client-resolver';
import { RateLimitService } from '../rate-limit/rate-limit.service';

/** Opens a session without credentials: internal (tokenguard/testing). */
export const OPEN_SESSION = Symbol('tokenguard.openSession');

/** Sessions: opens them (login), rotates their refresh tokens, and ends them (logout). */
@Injectable()
export class AuthService {
  constructor(
    private readonly config: AuthConfig,
    private readonly issuer: TokenIssuer,
    private readonly principals: Principals,
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
    return this[OPEN_SESSION](user, request);
  }

  /**
   * A new session for a user already authenticated: the end of `login`, and how
   * `tokenguard/testing` mints tokens without a password. Keyed by a symbol the package does not
   * export, so no app reaches it by mistake.
   */
  async [OPEN_SESSION](user: AuthUser, request?: ClientRequest): Promise<TokenPair> {
    const sid = randomId();
    const refresh = { jti: randomId(), issuedAtMs: this.config.clock.now() };
    await this.revocation.startSession({ sid, sub: user.sub }, refresh.jti);
    this.audit.emit('login.succeeded', { token: { sub: user.sub, sid }, request });
    const authTime = Math.floor(refresh.issuedAtMs / 1000);
    return this.issuer.pair(user, sid, refresh, authTime, 'token.issued', request);
  }

  /**
   * Exchanges a refresh token for a new pair in the same session (RFC 9700 section 4.14.2): each
   * refresh token works once, and presenting a used one revokes the whole session.
   */
  async refresh(refreshToken: string, request?: ClientRequest): Promise<TokenPair> {
    return this.rotate(await this.verifier.verify(refreshToken, 'refresh'), request);
  }

  /** `refresh` once the token is verified. */
  private async rotate(claims: TokenClaims, request?: ClientRequest): Promise<TokenPair> {
    // The absolute cap holds for refreshes too, or activity would keep a session alive forever.
    if (this.issuer.sessionDeadline(claims) <= this.config.clock.now() / 1000) {
      throw new InvalidTokenError(
        'AUTH_SESSION_EXPIRED',
        'The session reached its maximum age; log in again',
      );
    }
    // The app's suspicious-activity check sees refreshes too: a stolen refresh token is the prize.
    if (request) {
      const { sub, sid, jti, roles } = claims;
      await this.principals.inspect({ sub, sid, jti, roles, claims }, request);
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
    const user = await this.principals.user(claims);
    const event = result.outcome === 'rotated' ? 'token.refreshed' : 'refresh.replayed';
    return this.issuer.pair(user, claims.sid, result.successor, authTime(claims), event, request);
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
    const claims = await this.verifier.verify(token, 'refresh');
    if (token === fromCookie) this.cookies.assertCsrf(request, claims.sid);
    return this.cookies.deliver(response, await this.rotate(claims, request));
  }

  /** Ends the principal's session: its tokens, and any later issued for it, are refused. */
  async logout(principal: AuthPrincipal, request?: ClientRequest): Promise<void> {
    await this.revocation.revokeSession(principal, request);
    markEnded(principal);
  }

  /** Ends every session of the principal's user, on every instance. */
  async logoutAll(principal: AuthPrincipal, request?: ClientRequest): Promise<void> {
    await this.revocation.revokeUser(principal.sub, request);
    markEnded(principal);
  }
}
