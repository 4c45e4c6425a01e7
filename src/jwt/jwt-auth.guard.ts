import { HttpStatus, Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AuditService } from '../audit/audit.service';
import type { AuthRequest } from '../context/auth-request';
import { authTarget, type AuthTarget } from '../context/auth-target';
import { forContext } from '../context/socket-refusal';
import { CookieTransport } from '../cookies/cookie-transport';
import { AuthError } from '../errors/auth.errors';
import { SessionRenewal } from '../renewal/session-renewal';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import { AccessRules } from './access-rule';
import { JwtStrategy, type PassportRequest } from './jwt.strategy';
import { Principals } from './principals';
import { missingToken, toAuthError, TokenVerifier, type DecodedToken } from './token.verifier';
import { VerifiedTokenCache } from './verified-token.cache';

/** Where @nestjs/passport leaves the strategy's result: the verified token, not yet a principal. */
const VERIFIED = Symbol('tokenguard.verified');

/**
 * Authenticates the access token, in every context: HTTP, GraphQL (queries, mutations,
 * subscriptions), socket.io and ws gateways. Routes marked `@Public()` pass without one,
 * `@OptionalAuth()` ones with or without; every failure becomes a coded 401 (503 if the
 * revocation store cannot answer). One path for every token (README, "How a request is checked"):
 * found once (`CookieTransport.accessToken`, kept on the request), verified by passport-jwt
 * unless the verified-token cache knows it, its claims checked, its principal made by
 * `Principals.of`. A token read from a cookie also needs the session's CSRF token on
 * state-changing calls, and on sockets an allowed `Origin`. Last, a token close to expiry is
 * renewed on the response (`SessionRenewal`).
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard() {
  constructor(
    private readonly rules: AccessRules,
    private readonly verifier: TokenVerifier,
    private readonly principals: Principals,
    private readonly cache: VerifiedTokenCache,
    private readonly transport: CookieTransport,
    private readonly strategy: JwtStrategy,
    private readonly renewal: SessionRenewal,
    private readonly audit: AuditService,
  ) {
    // A symbol, where passport would set `request.user`: the principal goes there.
    super({ defaultStrategy: strategy.strategyName, property: VERIFIED as unknown as string });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      const rule = this.rules.of(context);
      if (rule.kind === 'public') return true;
      const target = authTarget(context);
      const { request } = target;
      if (!request) throw unsupported(target.type);
      if (rule.kind === 'optional' && !this.transport.accessToken(request)) return true;
      const principal = await this.authenticate(request, target);
      const renewing =
        rule.renews && !target.connection
          ? this.renewal.offer(principal, request, target.response)
          : undefined;
      if (renewing) await renewing;
      return true;
    } catch (error) {
      throw forContext(context, error, this.audit);
    }
  }

  /**
   * The caller of a request (HTTP, or a connection's handshake request), set as `request.user`:
   * refused with a coded AuthError when the token is missing, invalid, expired or revoked.
   */
  async authenticate(request: AuthRequest, target?: Partial<AuthTarget>): Promise<AuthPrincipal> {
    const found = this.transport.accessToken(request);
    if (!found) throw missingToken();
    const cached = this.cache.get(found.token);
    const decoded = cached ?? (await this.verify(found.token, target?.response));
    const claims = this.verifier.checkClaims(decoded, 'access');
    if (!cached) this.cache.set(found.token, decoded, claims.exp);
    const principal = await this.principals.of(claims);
    request.user = principal;
    if (found.via === 'cookie') {
      // A cookie rides along on any request, cross-site ones too: a change must prove intent,
      // and a socket must come from an allowed page.
      if (target?.connection) this.transport.assertOrigin(request);
      else if (target?.changesState) this.transport.checkCsrf(request, principal.sid);
    }
    const inspecting = this.principals.inspect(principal, request);
    if (inspecting) await inspecting;
    return principal;
  }

  /** The token's signature, checked by passport-jwt (see JwtStrategy) on a request of its own. */
  private async verify(token: string, response: unknown): Promise<DecodedToken> {
    const request: PassportRequest & { [VERIFIED]?: DecodedToken } = { token };
    // passport reads the request as args[0] of an HTTP host, whichever context this is.
    await super.canActivate(new HttpHost(request, response ?? {}) as unknown as ExecutionContext);
    const verified = request[VERIFIED];
    if (!verified) throw missingToken(); // passport refused without saying why
    return verified;
  }

  /** passport reports why a token failed in `err`, or in `info` (passport-jwt, jsonwebtoken). */
  override handleRequest<TUser = DecodedToken>(
    err: unknown,
    user: TUser | false,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (user && !err) return user;
    const request = context.switchToHttp().getRequest<PassportRequest>();
    throw toAuthError(this.strategy.refusalOf(request) ?? err ?? info) as Error;
  }
}

/**
 * The two things @nestjs/passport's AuthGuard reads of a context: the request and the response.
 * A class, not an object literal with closures: made on every cache miss, the literal's
 * allocation sites got pretenured by V8 and promoted about 2 MB per scavenge (measured on
 * Fastify with --trace-pretenuring-statistics), most of that path's GC time. Nest's own
 * ExecutionContextHost (internal) does the same in `switchToHttp` (2 MB too, measured).
 */
class HttpHost {
  constructor(
    private readonly request: PassportRequest,
    private readonly response: unknown,
  ) {}
  getType(): string {
    return 'http';
  }
  getArgs(): unknown[] {
    return [this.request, this.response];
  }
  getArgByIndex(index: number): unknown {
    return index === 0 ? this.request : index === 1 ? this.response : undefined;
  }
  switchToHttp(): this {
    return this;
  }
  getRequest(): PassportRequest {
    return this.request;
  }
  getResponse(): unknown {
    return this.response;
  }
  getNext(): undefined {
    return undefined;
  }
}

const unsupported = (type: string): AuthError =>
  new AuthError(
    'AUTH_CONTEXT_UNSUPPORTED',
    HttpStatus.UNAUTHORIZED,
    type === 'ws'
      ? "TokenGuard cannot see this socket's handshake: use app.useWebSocketAdapter(createWsAdapter(app)) for plain WebSocket gateways"
      : `TokenGuard cannot authenticate '${type}' handlers: mark the handler @Public(), or turn the global guards off (globalGuards: false) and guard this context yourself`,
  );
