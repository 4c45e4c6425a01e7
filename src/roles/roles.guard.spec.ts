import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { isAuthError } from '../errors/auth.errors';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import type { AuditService } from '../audit/audit.service';
import { AccessRules } from '../jwt/access-rule';
import { Roles } from './roles.decorator';
import { hasAnyRole, RolesGuard } from './roles.guard';

@Roles('admin', 'super_admin')
@Controller()
class Admin {
  @Get() list() {}
  @Roles('auditor') @Get() audit() {}
}

const contextFor = (handler: () => void, roles?: string[]) =>
  new ExecutionContextHost(
    [{ user: roles && ({ roles } as Partial<AuthPrincipal>) }],
    Admin,
    handler,
  );

describe('RolesGuard', () => {
  const guard = new RolesGuard(new AccessRules(new Reflector()), {
    refused: () => undefined,
  } as unknown as AuditService);

  it.each([
    [['admin'], true],
    [['super_admin'], true],
    [['user', 'admin'], true],
    [['user'], false],
    [[], false],
    [['Admin'], false],
  ])('any-of on the class: roles %j -> %s', (roles, allowed) => {
    expect(hasAnyRole(roles, ['admin', 'super_admin'])).toBe(allowed);
    const run = () => guard.canActivate(contextFor(Admin.prototype.list, roles));
    if (allowed) expect(run()).toBe(true);
    else expect(run).toThrow(expect.objectContaining({ code: 'AUTH_ROLE_REQUIRED' }));
  });

  it('lets method metadata override class metadata', () => {
    expect(guard.canActivate(contextFor(Admin.prototype.audit, ['auditor']))).toBe(true);
    expect(() => guard.canActivate(contextFor(Admin.prototype.audit, ['admin']))).toThrow();
  });

  it('fails closed with 403 naming the roles when no user is on the request', () => {
    try {
      guard.canActivate(contextFor(Admin.prototype.list));
      throw new Error('expected a refusal');
    } catch (error) {
      expect(isAuthError(error) && error.getStatus()).toBe(403);
      expect(isAuthError(error) && error.getResponse()).toMatchObject({
        required_roles: ['admin', 'super_admin'],
      });
    }
  });

  it('allows routes without @Roles', () => {
    class Open {
      handler() {}
    }
    expect(guard.canActivate(new ExecutionContextHost([{}], Open, Open.prototype.handler))).toBe(
      true,
    );
  });
});
