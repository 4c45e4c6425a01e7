import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthPrincipal } from '../tokens/token-claims.interface';

/** Hands the verified caller (`request.user`, an AuthPrincipal) to a route handler. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthPrincipal | undefined =>
    ctx.switchToHttp().getRequest<{ user?: AuthPrincipal }>().user,
);
