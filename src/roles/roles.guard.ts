import { HttpStatus, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { authTarget } from '../context/auth-target';
import { forContext } from '../context/socket-refusal';
import { AuthError } from '../errors/auth.errors';
import { AccessRules } from '../jwt/access-rule';

/** Enforces `@Roles(...)` with any-of semantics. Runs after JwtAuthGuard; no user means refused. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly rules: AccessRules,
    private readonly audit: AuditService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const rule = this.rules.of(context);
    if (rule.kind !== 'roles') return true;
    const user = authTarget(context).request?.user;
    if (user && hasAnyRole(user.roles, rule.roles)) return true;
    const error = new AuthError(
      'AUTH_ROLE_REQUIRED',
      HttpStatus.FORBIDDEN,
      `Requires one of the roles: ${rule.roles.join(', ')}`,
      {
        extra: { required_roles: rule.roles },
      },
    );
    throw forContext(context, error, this.audit);
  }
}

/** Any-of: holding one of the required roles is enough. */
export function hasAnyRole(
  held: readonly string[] | undefined,
  required: readonly string[],
): boolean {
  return Array.isArray(held) && required.some((role) => held.includes(role));
}
