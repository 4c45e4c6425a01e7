import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { RolesGuard } from '../roles/roles.guard';
import { AccessRules } from './access-rule';
import { JwtAuthGuard } from './jwt-auth.guard';

/**
 * The one guard `globalGuards` registers: the rate limit, the token, the roles, each only where
 * the handler's markers ask for it (decided once per handler). A public route without a limit
 * is answered `true` at once, without a promise: Nest then awaits nothing for it.
 */
@Injectable()
export class GlobalAuthGuard implements CanActivate {
  constructor(
    private readonly rules: AccessRules,
    private readonly limits: RateLimitGuard,
    private readonly jwt: JwtAuthGuard,
    private readonly roles: RolesGuard,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const limited = this.limits.applies(context);
    if (!limited && this.rules.of(context).kind === 'public') return true;
    return this.check(context, limited);
  }

  // Rate limits first: a flood is refused before any token is parsed or checked.
  private async check(context: ExecutionContext, limited: boolean): Promise<boolean> {
    if (limited && !(await this.limits.canActivate(context))) return false;
    if (!(await this.jwt.canActivate(context))) return false;
    return this.roles.canActivate(context);
  }
}
