import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import { toAuthError } from '../tokens/token.verifier';
import { JwtStrategy } from './jwt.strategy';
import { Public } from './public.decorator';

/**
 * Authenticates the bearer access token through the passport-jwt strategy. Routes marked
 * `@Public()` pass without one; every failure becomes a coded 401.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard() {
  constructor(
    private readonly reflector: Reflector,
    strategy: JwtStrategy,
  ) {
    super({ defaultStrategy: strategy.strategyName });
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride(Public, [context.getHandler(), context.getClass()])) {
      return Promise.resolve(true);
    }
    return super.canActivate(context) as Promise<boolean>;
  }

  /** passport reports why a token failed in `err` (our checks) or `info` (passport-jwt, jsonwebtoken). */
  override handleRequest<TUser = AuthPrincipal>(
    err: unknown,
    user: TUser | false,
    info: unknown,
  ): TUser {
    if (user && !err) return user;
    throw toAuthError(err ?? info);
  }
}
