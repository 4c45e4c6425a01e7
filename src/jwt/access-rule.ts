import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { NoTokenRenewal } from '../renewal/no-token-renewal.decorator';
import { RequiredRoles } from '../roles/roles.decorator';
import { Public } from './public.decorator';

/** Lets a route be called with or without a token; a token that is sent must be valid. */
export const OptionalAuth = Reflector.createDecorator<true>({ transform: () => true });

/**
 * Who may call a handler, read once from `@Public`, `@OptionalAuth` and `@Roles`, and whether its
 * responses may renew the caller's token (`@NoTokenRenewal`).
 */
export type AccessRule = Who & { readonly renews: boolean };

type Who =
  | { kind: 'public' }
  | { kind: 'optional' }
  | { kind: 'authenticated' }
  | { kind: 'roles'; roles: readonly string[] };
const AUTHENTICATED: Who = { kind: 'authenticated' };
const PUBLIC: Who = { kind: 'public' };
const OPTIONAL: Who = { kind: 'optional' };

/**
 * The handler's own markers win over its class's, whichever they are: `@Public()` on a method of
 * a `@Roles('admin')` controller opens that method, `@Roles` on a method of a `@Public()` class
 * closes it. On one level the stricter marker wins (roles, then optional, then public), so a
 * contradiction fails closed.
 */
@Injectable()
export class AccessRules {
  /** Per class and handler: metadata does not change once the app runs, and guards ask often. */
  private readonly rules = new WeakMap<object, WeakMap<object, AccessRule>>();

  constructor(private readonly reflector: Reflector) {}

  of(context: ExecutionContext): AccessRule {
    return this.rule(context.getClass(), context.getHandler());
  }

  /** The rule of a handler (a method of `type`'s prototype). */
  rule(type: object | undefined, handler: object | undefined): AccessRule {
    if (!type || !handler) return this.resolve(handler, type);
    let byHandler = this.rules.get(type);
    if (!byHandler) this.rules.set(type, (byHandler = new WeakMap()));
    let rule = byHandler.get(handler);
    if (!rule) byHandler.set(handler, (rule = this.resolve(handler, type)));
    return rule;
  }

  private resolve(handler: object | undefined, type: object | undefined): AccessRule {
    const who = ruleOf(this.reflector, handler) ?? ruleOf(this.reflector, type) ?? AUTHENTICATED;
    const optedOut = [handler, type].some(
      (target) => target && this.reflector.get(NoTokenRenewal, target as () => void),
    );
    return { ...who, renews: who.kind !== 'public' && !optedOut };
  }
}

function ruleOf(reflector: Reflector, target: object | undefined): Who | undefined {
  if (!target) return undefined;
  const roles = reflector.get(RequiredRoles, target as () => void);
  if (Array.isArray(roles) && roles.length > 0) return { kind: 'roles', roles };
  if (reflector.get(OptionalAuth, target as () => void)) return OPTIONAL;
  if (reflector.get(Public, target as () => void)) return PUBLIC;
  return undefined;
}
