import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { ClientRequest } from '../common/client';
import { AuthService } from '../tokens/auth.service';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import { toAuthError, TokenVerifier } from '../tokens/token.verifier';
import { CookieTransport } from '../cookies/cookie-transport';
import { JwtStrategy } from './jwt.strategy';
import { Public } from './public.decorator';
import { VerifiedTokenCache } from './verified-token.cache';

type GuardedRequest = ClientRequest & { method?: string; user?: AuthPrincipal };

/**
 * Authenticates the bearer access token through the passport-jwt strategy. Routes marked
 * `@Public()` pass without one; every failure becomes a coded 401 (503 if the revocation store
 * cannot answer). A token passport-jwt already verified skips only the signature check. A token
 * read from a cookie also needs the session's CSRF token on state-changing methods.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard() {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly auth: AuthService,
    private readonly cache: VerifiedTokenCache,
    private readonly transport: CookieTransport,
    strategy: JwtStrategy,
  ) {
    super({ defaultStrategy: strategy.strategyName });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride(Public, [context.getHandler(), context.getClass()])) {
      return true;
    }
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const found = this.transport.accessToken(request);
    const verified = found && this.cache.get(found.token);
    if (verified) {
      request.user = await this.auth.principalFor(this.verifier.checkClaims(verified, 'access'));
    } else {
      await super.canActivate(context);
    }
    const principal = request.user;
    if (!principal) return true; // passport refused already
    // A cookie rides along on any request, cross-site ones too: state changes must prove intent.
    if (found?.via === 'cookie') this.transport.assertCsrf(request, principal.sid);
    await this.auth.inspect(principal, request);
    return true;
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
