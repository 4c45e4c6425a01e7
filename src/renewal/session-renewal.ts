import { Injectable } from '@nestjs/common';
import onHeaders from 'on-headers';
import type { ServerResponse } from 'node:http';
import { NEW_TOKEN_HEADER } from '../auth.constants';
import { AuthConfig } from '../auth-options.validate';
import type { AuthRequest } from '../context/auth-request';
import { AuditService } from '../audit/audit.service';
import { CookieTransport } from '../cookies/cookie-transport';
import { hasEnded } from '../jwt/principals';
import { RevocationService } from '../revocation/revocation.service';
import type { AuthPrincipal, TokenClaims } from '../tokens/token-claims.interface';
import { TokenIssuer } from '../tokens/token-issuer';

/** A renewed access token, its jti, and when it expires (epoch seconds). */
interface Renewal {
  token: string;
  jti: string;
  expiresAt: number;
}

/** Renewals kept at most at once; past it, concurrent requests mint their own (harmless, see below). */
const MAX_SHARED_RENEWALS = 10_000;
/** Set on a response that already carries a renewal: a GraphQL request runs its guards per field. */
const RENEWING = Symbol('tokenguard.renewing');

/**
 * Sliding sessions: a response to a request whose access token is close to expiry carries a
 * fresh one, in `X-New-Token` (exposed to browsers through CORS) or, for a cookie session, in the
 * access cookie. Decided by JwtAuthGuard once the request is authenticated (most tokens are far
 * from expiry and cost one comparison), and written just before the response's headers go out
 * (on-headers), so no interceptor runs on every request: only then is the status known, and an
 * error response, or the response to a request that ended its session, carries none.
 */
@Injectable()
export class SessionRenewal {
  /**
   * Renewals by the jti they replace, while that token lives (`until`, epoch seconds): requests
   * that arrive together with one old token share one new token. The only per-request state in
   * a singleton: bounded by the tokens renewed in one renewal window, and by MAX_SHARED_RENEWALS.
   */
  private readonly renewals = new Map<
    string,
    { renewal: Promise<Renewal | undefined>; until: number }
  >();

  constructor(
    private readonly config: AuthConfig,
    private readonly issuer: TokenIssuer,
    private readonly revocation: RevocationService,
    private readonly transport: CookieTransport,
    private readonly audit: AuditService,
  ) {}

  /**
   * Renews the principal's token on `response` (Express's, or Fastify's reply) if it is due;
   * nothing to wait for when it is not (most requests).
   */
  offer(
    principal: AuthPrincipal,
    request: AuthRequest,
    response: unknown,
  ): Promise<void> | undefined {
    if (!this.due(principal.claims)) return undefined;
    // Only now the response: on Express every property read of it is slow (see README, Benchmarks).
    const raw = nodeResponse(response);
    const pending = raw && this.renewal(principal);
    return pending && this.attach(pending, principal, request, raw);
  }

  /** Whether a token is close enough to expiry to renew: one comparison, most tokens are not. */
  private due(claims: TokenClaims): boolean {
    const { sliding, clock } = this.config;
    return sliding !== undefined && claims.exp - clock.now() / 1000 < sliding.renewWithinSeconds;
  }

  private async attach(
    pending: Promise<Renewal | undefined>,
    principal: AuthPrincipal,
    request: AuthRequest,
    raw: ServerResponse,
  ): Promise<void> {
    const renewal = await pending;
    if (!renewal || raw.headersSent || RENEWING in raw) return;
    Object.defineProperty(raw, RENEWING, { value: true });
    const viaCookie = this.transport.accessToken(request)?.via === 'cookie';
    onHeaders(raw, () => {
      // The request's latest principal too: GraphQL makes one per field, and a logout may be another's.
      const ended = hasEnded(principal) || (request.user !== undefined && hasEnded(request.user));
      if (raw.statusCode >= 400 || ended) return;
      this.write(raw, renewal, viaCookie);
      // Audited when sent: a renewal minted for a request refused later (a role) never leaves.
      const { sid } = principal;
      this.audit.emit('token.issued', {
        token: { sub: principal.sub, sid, jti: renewal.jti },
        request,
      });
    });
  }

  /**
   * A fresh access token for the principal's session (its token is due), else undefined. Never past `auth_time` plus the session's max age, and only while the store still
   * holds the session's live record: a store that lost it (wiped, evicted, a restarted memory
   * store) no longer knows whether the session was logged out, so the token lives only until its
   * own `exp`. Across instances each mints its own, which is harmless: all belong to the same
   * session and die with it.
   */
  private renewal(principal: AuthPrincipal): Promise<Renewal | undefined> | undefined {
    const { claims } = principal;
    const now = this.config.clock.now() / 1000;
    const deadline = this.issuer.sessionDeadline(claims);
    if (now >= deadline) return undefined;
    const shared = this.renewals.get(claims.jti);
    if (shared) return shared.renewal;
    for (const [jti, { until }] of this.renewals) if (until <= now) this.renewals.delete(jti);
    const renewal = this.mint(principal, deadline);
    if (this.renewals.size >= MAX_SHARED_RENEWALS) return renewal;
    this.renewals.set(claims.jti, { renewal, until: claims.exp });
    // Only a token is shared: after no renewal (no live session), the next request asks again.
    const forget = () => this.renewals.delete(claims.jti);
    renewal.then((minted) => minted ?? forget(), forget);
    return renewal;
  }

  private async mint(principal: AuthPrincipal, deadline: number): Promise<Renewal | undefined> {
    const { claims } = principal;
    if (!(await this.revocation.sessionLive(claims))) return undefined;
    const now = this.config.clock.now() / 1000;
    const user = principal.user ?? { sub: principal.sub, roles: principal.roles };
    const ttl = Math.min(this.config.accessTokenTtlSeconds, Math.floor(deadline - now));
    return { ...this.issuer.access(user, claims, ttl), expiresAt: Math.floor(now) + ttl };
  }

  private write(response: ServerResponse, { token, expiresAt }: Renewal, viaCookie: boolean): void {
    // The response now carries a token, which no cache may keep (RFC 6749 section 5.1).
    response.setHeader('Cache-Control', 'no-store');
    // A cookie session keeps its token out of page scripts' reach: no header, only the cookie.
    if (viaCookie) return this.transport.renewAccessCookie(response, token, expiresAt);
    response.setHeader(NEW_TOKEN_HEADER, token);
    const exposed = String(response.getHeader('Access-Control-Expose-Headers') ?? '');
    if (
      !exposed
        .toLowerCase()
        .split(/\s*,\s*/)
        .includes(NEW_TOKEN_HEADER.toLowerCase())
    ) {
      response.setHeader(
        'Access-Control-Expose-Headers',
        exposed ? `${exposed}, ${NEW_TOKEN_HEADER}` : NEW_TOKEN_HEADER,
      );
    }
  }
}

/** The Node response under a framework's: Express's is one, Fastify's reply (also Mercurius's) holds it as `raw`. */
function nodeResponse(response: unknown): ServerResponse | undefined {
  const candidate = (response as { raw?: unknown } | undefined)?.raw ?? response;
  return typeof (candidate as Partial<ServerResponse> | undefined)?.writeHead === 'function'
    ? (candidate as ServerResponse)
    : undefined;
}
