import { Reflector } from '@nestjs/core';

/** The metadata behind `@Roles`, read by RolesGuard. */
export const RequiredRoles = Reflector.createDecorator<readonly string[]>();

/** Allows a route to callers holding any one of these roles; method metadata overrides class metadata. */
export const Roles = (...roles: string[]): ReturnType<typeof RequiredRoles> => RequiredRoles(roles);
