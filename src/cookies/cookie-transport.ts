import { HttpStatus, Injectable, Logger, type CookieSerializeOptions } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { parse } from 'cookie';
import { decode } from 'jsonwebtoken';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AuthConfig } from '../auth-options.validate';
import { FOUND_TOKEN, type AuthRequest, type FoundToken } from '../context/auth-request';
import { AuthError } from '../errors/auth.errors';
import { extractBearerToken } from '../jwt/bearer-token';
import type { TokenPair } from '../tokens/token-claims.interface';

/** Header a cookie-authenticated, state-changing request must carry (double submit). */
export const CSRF_HEADER = 'X-CSRF-Token';
/** RFC 9110 safe methods: everything else changes state and needs the CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type HttpRequest = { headers: IncomingHttpHeaders; method?: string };

/** What login and refresh answer in cookie-only mode: the tokens travel in HttpOnly cookies only. */
export interface CookieSessionBody {
  token_type: 'Cookie';
  expires_in: number;
  csrf_token: string;
}

/**
 * Reads tokens from the locations configured (`tokenLocation`) and, in cookie mode, writes them
 * as cookies: HttpOnly, Secure, SameSite=Strict by default, Max-Age matching each token, the
 * refresh cookie scoped to the refresh path. With Secure on, names carry the `__Host-` /
 * `__Secure-` prefixes, which browsers only accept from HTTPS and a sibling domain cannot set.
 */
@Injectable()
export class CookieTransport {
  readonly enabled: boolean;
  private readonly fromHeaders: boolean;
  private readonly names: { access: string; refresh: string; csrf: string };
  private readonly base: CookieSerializeOptions;
  private readonly refreshPath: string;
  private readonly csrfKey: Buffer;
  private readonly allowedOrigins: ReadonlySet<string>;

  constructor(
    private readonly config: AuthConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    const { cookies } = config;
    this.enabled = config.tokenLocation.includes('cookies');
    this.fromHeaders = config.tokenLocation.includes('headers');
    const prefix = (kind: 'host' | 'secure') =>
      cookies.secure ? (kind === 'host' ? '__Host-' : '__Secure-') : '';
    this.names = {
      access: `${prefix('host')}tg_access`,
      refresh: `${prefix('secure')}tg_refresh`,
      csrf: `${prefix('host')}tg_csrf`,
    };
    this.base = { secure: cookies.secure, sameSite: cookies.sameSite, path: '/' };
    this.refreshPath = cookies.refreshPath;
    this.csrfKey = cookies.csrfKey;
    this.allowedOrigins = new Set(cookies.allowedOrigins);
    if (this.enabled && !cookies.secure) {
      new Logger('CookieTransport').warn(
        'Cookies are sent without Secure: only acceptable on plain-HTTP localhost during development.',
      );
    }
  }

  /** Name of the access-token cookie (`__Host-tg_access` with Secure cookies). */
  get accessCookieName(): string {
    return this.names.access;
  }

  /**
   * The access token of a request: a socket's handshake payload, else the bearer header, then
   * the cookie, as configured. Looked up once and kept on the request.
   */
  accessToken(request: AuthRequest): FoundToken | undefined {
    const kept = request[FOUND_TOKEN];
    if (kept !== undefined) return kept ?? undefined;
    const found = this.find(request);
    request[FOUND_TOKEN] = found ?? null;
    return found;
  }

  private find(request: AuthRequest): FoundToken | undefined {
    const bearer = this.fromHeaders ? extractBearerToken(request) : null;
    if (bearer !== null) return { token: bearer, via: 'header' };
    const cookie = this.enabled ? this.cookie(request, this.names.access) : undefined;
    return cookie ? { token: cookie, via: 'cookie' } : undefined;
  }

  /** The refresh token cookie, when cookies are on. */
  refreshToken(request: HttpRequest): string | undefined {
    return this.enabled ? this.cookie(request, this.names.refresh) : undefined;
  }

  /** The CSRF token of a session: an HMAC of its `sid`, so it cannot be made without the key. */
  csrfToken(sid: string): string {
    return createHmac('sha256', this.csrfKey).update(sid).digest('base64url');
  }

  /** Refuses a state-changing (not GET/HEAD/OPTIONS) request whose `X-CSRF-Token` is not the session's, with 403. */
  assertCsrf(request: HttpRequest, sid: string): void {
    if (SAFE_METHODS.has((request.method ?? 'GET').toUpperCase())) return;
    this.checkCsrf(request, sid);
  }

  /** Refuses a request without the session's CSRF token, whatever its method (a GraphQL mutation is a POST like a query). */
  checkCsrf(request: HttpRequest, sid: string): void {
    const sent = request.headers[CSRF_HEADER.toLowerCase()];
    const expected = Buffer.from(this.csrfToken(sid));
    const given = Buffer.from(typeof sent === 'string' ? sent : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AuthError(
        'AUTH_CSRF_INVALID',
        HttpStatus.FORBIDDEN,
        `A cookie-authenticated change needs the session's CSRF token in ${CSRF_HEADER}`,
      );
    }
  }

  /**
   * Refuses a cookie-authenticated socket or subscription opened from a page of another origin
   * (cross-site WebSocket hijacking): the server's own host and `cookies.allowedOrigins` pass.
   * Browsers always send `Origin` on a WebSocket handshake; a client without one is no browser,
   * and so cannot be made to carry someone else's cookie.
   */
  assertOrigin(request: HttpRequest): void {
    const origin = request.headers.origin;
    if (origin === undefined || this.allowedOrigins.has(origin)) return;
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    // The server's own host, over HTTPS when cookies are Secure (an http: page on the same host
    // is not the site the cookies were made for).
    const schemes = this.base.secure ? ['https:'] : ['https:', 'http:'];
    if (url && schemes.includes(url.protocol) && url.host === request.headers.host) return;
    throw new AuthError(
      'AUTH_ORIGIN_REFUSED',
      HttpStatus.FORBIDDEN,
      'A cookie-authenticated connection must come from an allowed origin (cookies.allowedOrigins)',
    );
  }

  /**
   * Sets the session cookies after login or refresh and returns the body to answer with: the
   * pair when clients may use headers, else only what a page needs (never the tokens). Without
   * cookies it returns the pair untouched, so one controller serves every `tokenLocation`.
   */
  deliver(response: unknown, pair: TokenPair): TokenPair | CookieSessionBody {
    if (!this.enabled) return pair;
    // The CSRF token is bound to the session, which the access token names. Read, not verified:
    // the pair is the one login or refresh just issued, and a CSRF token is only ever accepted
    // beside the access cookie set here, which is verified on every request.
    const sid = sessionOf(pair.access_token);
    const { refreshTokenTtlSeconds } = this.config;
    this.set(response, this.names.access, pair.access_token, {
      maxAge: pair.expires_in, // shorter than the configured TTL near a session's max age
      httpOnly: true,
    });
    this.set(response, this.names.refresh, pair.refresh_token, {
      maxAge: refreshTokenTtlSeconds,
      httpOnly: true,
      path: this.refreshPath,
    });
    const csrf = this.csrfToken(sid);
    // Readable by the page on purpose: it sends the value back in X-CSRF-Token.
    this.set(response, this.names.csrf, csrf, { maxAge: refreshTokenTtlSeconds, httpOnly: false });
    if (this.fromHeaders) return pair;
    return { token_type: 'Cookie', expires_in: pair.expires_in, csrf_token: csrf };
  }

  /** Rewrites the access cookie with a renewed token (sliding sessions) expiring at `expiresAt` (epoch seconds). */
  renewAccessCookie(response: unknown, token: string, expiresAt: number): void {
    const maxAge = Math.max(1, expiresAt - Math.floor(this.config.clock.now() / 1000));
    this.set(response, this.names.access, token, { maxAge, httpOnly: true });
  }

  /** Clears every session cookie (logout). */
  clear(response: unknown): void {
    if (!this.enabled) return;
    const { httpAdapter } = this.adapterHost;
    httpAdapter.clearCookie(response, this.names.access, this.base);
    httpAdapter.clearCookie(response, this.names.refresh, { ...this.base, path: this.refreshPath });
    httpAdapter.clearCookie(response, this.names.csrf, this.base);
  }

  private set(
    response: unknown,
    name: string,
    value: string,
    options: CookieSerializeOptions,
  ): void {
    this.adapterHost.httpAdapter.setCookie(response, name, value, { ...this.base, ...options });
  }

  private cookie(request: HttpRequest, name: string): string | undefined {
    const header = request.headers.cookie;
    return header ? parse(header)[name] || undefined : undefined;
  }
}

function sessionOf(accessToken: string): string {
  const sid: unknown = decode(accessToken, { json: true })?.sid;
  if (typeof sid !== 'string' || sid.length === 0) {
    throw new TypeError('CookieTransport.deliver needs a pair that login or refresh issued');
  }
  return sid;
}
