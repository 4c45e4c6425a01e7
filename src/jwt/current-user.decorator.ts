import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { authTarget } from '../context/auth-target';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import { AccessRules } from './access-rule';

/** Rules for the decorator, which has no injector; a cache of metadata, the same for every app. */
const rules = new AccessRules(new Reflector());

/**
 * Hands the verified caller (an AuthPrincipal) to a route handler, resolver or gateway handler;
 * undefined on a `@Public()` or `@OptionalAuth()` handler called without a token.
 */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthPrincipal | undefined => {
    const { request, connection } = authTarget(ctx);
    // A socket keeps its last caller between messages; a @Public message was not checked, so
    // that caller may since have logged out.
    if (connection && rules.of(ctx).kind === 'public') return undefined;
    return request?.user;
  },
);
