import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { authTarget } from '../context/auth-target';
import type { AuthPrincipal } from '../tokens/token-claims.interface';

/**
 * Hands the verified caller (an AuthPrincipal) to a route handler, resolver or gateway handler;
 * undefined on a `@Public()` or `@OptionalAuth()` handler called without a token.
 */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthPrincipal | undefined =>
    authTarget(ctx).request?.user,
);
