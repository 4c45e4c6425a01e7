import { HttpStatus, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthError } from '../errors/auth.errors';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import { RequiredRoles } from './roles.decorator';

/** Enforces `@Roles(...)` with any-of semantics. Runs after JwtAuthGuard; no user means refused. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride(RequiredRoles, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!Array.isArray(required) || required.length === 0) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthPrincipal }>().user;
    if (user && hasAnyRole(user.roles, required)) return true;
    throw new AuthError(
      'AUTH_ROLE_REQUIRED',
      HttpStatus.FORBIDDEN,
      `Requires one of the roles: ${required.join(', ')}`,
      {
        extra: { required_roles: required },
      },
    );
  }
}

/** Any-of: holding one of the required roles is enough. */
export function hasAnyRole(
  held: readonly string[] | undefined,
  required: readonly string[],
): boolean {
  return Array.isArray(held) && required.some((role) => held.includes(role));
}
