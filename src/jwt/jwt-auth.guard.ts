import { HttpStatus, Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AuditService } from '../audit/audit.service';
import type { AuthRequest } from '../context/auth-request';
import { authTarget, type AuthTarget } from '../context/auth-target';
import { forContext } from '../context/socket-refusal';
import { AuthError } from '../errors/auth.errors';
import { AuthService } from '../tokens/auth.service';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import { missingToken, toAuthError, TokenVerifier } from '../tokens/token.verifier';
import { CookieTransport } from '../cookies/cookie-transport';
import { AccessRules } from './access-rule';
import { JwtStrategy } from './jwt.strategy';
import { VerifiedTokenCache } from './verified-token.cache';

/**
 * Authenticates the access token through the passport-jwt strategy, in every context: HTTP,
 * GraphQL (queries, mutations, subscriptions), socket.io and ws gateways. Routes marked
 * `@Public()` pass without one, `@OptionalAuth()` ones with or without; every failure becomes a
 * coded 401 (503 if the revocation store cannot answer). A token passport-jwt already verified
 * skips only the signature check. A token read from a cookie also needs the session's CSRF
 * token on state-changing calls, and on sockets an allowed `Origin`.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard() {
  constructor(
    private readonly rules: AccessRules,
    private readonly verifier: TokenVerifier,
    private readonly auth: AuthService,
    private readonly cache: VerifiedTokenCache,
    private readonly transport: CookieTransport,
    strategy: JwtStrategy,
    private readonly audit: AuditService,
  ) {
    super({ defaultStrategy: strategy.strategyName });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      return await this.check(context);
    } catch (error) {
      throw forContext(context, error, this.audit);
    }
  }

  private async check(context: ExecutionContext): Promise<boolean> {
    const rule = this.rules.of(context);
    if (rule.kind === 'public') return true;
    const target = authTarget(context);
    const { request } = target;
    if (!request) throw unsupported(target.type);
    if (rule.kind === 'optional' && !this.transport.accessToken(request)) return true;
    await this.authenticate(request, target);
    return true;
  }

  /**
   * The caller of a request (HTTP, or a connection's handshake request), set as `request.user`:
   * refused with a coded AuthError when the token is missing, invalid, expired or revoked.
   */
  async authenticate(request: AuthRequest, target?: Partial<AuthTarget>): Promise<AuthPrincipal> {
    const found = this.transport.accessToken(request);
    if (!found) throw missingToken();
    const verified = this.cache.get(found.token);
    if (verified) {
      request.user = await this.auth.principalFor(this.verifier.checkClaims(verified, 'access'));
    } else {
      // passport reads the request as args[0] of an HTTP host, whichever context this is.
      await super.canActivate(httpHost(request, target?.response));
    }
    const principal = request.user;
    if (!principal) throw missingToken(); // passport refused without saying why
    if (found.via === 'cookie') {
      // A cookie rides along on any request, cross-site ones too: a change must prove intent,
      // and a socket must come from an allowed page.
      if (target?.connection) this.transport.assertOrigin(request);
      else if (target?.changesState) this.transport.checkCsrf(request, principal.sid);
    }
    await this.auth.inspect(principal, request);
    return principal;
  }

  /** passport reports why a token failed in `err` (our checks) or `info` (passport-jwt, jsonwebtoken). */
  override handleRequest<TUser = AuthPrincipal>(
    err: unknown,
    user: TUser | false,
    info: unknown,
  ): TUser {
    if (user && !err) return user;
    throw toAuthError(err ?? info) as Error;
  }
}

/** The two things @nestjs/passport's AuthGuard reads of a context: the request and the response. */
function httpHost(request: AuthRequest, response: unknown): ExecutionContext {
  const args = [request, response ?? {}];
  return {
    getType: () => 'http',
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
    switchToHttp: () => ({
      getRequest: () => request,
      getResponse: () => response ?? {},
      getNext: () => undefined,
    }),
  } as unknown as ExecutionContext;
}

const unsupported = (type: string): AuthError =>
  new AuthError(
    'AUTH_CONTEXT_UNSUPPORTED',
    HttpStatus.UNAUTHORIZED,
    type === 'ws'
      ? "TokenGuard cannot see this socket's handshake: use app.useWebSocketAdapter(createWsAdapter(app)) for plain WebSocket gateways"
      : `TokenGuard cannot authenticate '${type}' handlers: mark the handler @Public(), or turn the global guards off (globalGuards: false) and guard this context yourself`,
  );
