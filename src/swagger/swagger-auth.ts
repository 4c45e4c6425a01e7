import type { INestApplicationContext, Type } from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import type { DiscoveryService, Reflector } from '@nestjs/core';
import { AuthConfig } from '../auth-options.validate';
import { CookieTransport } from '../cookies/cookie-transport';
import { JwtAuthGuard } from '../jwt/jwt-auth.guard';
import { AccessRules } from '../jwt/access-rule';

/** Names of the OpenAPI security schemes TokenGuard documents. */
export const BEARER_SCHEME = 'bearer';
export const COOKIE_SCHEME = 'cookie';

type Decorate = (options?: { description: string }) => MethodDecorator;
/** The few @nestjs/swagger decorators used, typed here so the package needs no swagger types. */
interface SwaggerDecorators {
  ApiBearerAuth(this: void, name: string): MethodDecorator;
  ApiCookieAuth(this: void, name: string): MethodDecorator;
  ApiUnauthorizedResponse: Decorate;
  ApiForbiddenResponse: Decorate;
}

/** An OpenAPI security scheme, as much of it as TokenGuard writes. */
export interface AuthSecurityScheme {
  type: 'http' | 'apiKey';
  scheme?: string;
  bearerFormat?: string;
  in?: string;
  [extension: `x-${string}`]: unknown;
}

/** The part of swagger's DocumentBuilder that `addAuthSchemes` calls. */
export interface SecuritySchemeBuilder<B> {
  addBearerAuth(options: AuthSecurityScheme, name: string): B;
  addCookieAuth(cookieName: string, options: AuthSecurityScheme, securityName: string): B;
}

/** Whether a handler already names a scheme (a second app in one process, as in tests). */
function names(handler: object, scheme: string): boolean {
  const security = Reflect.getMetadata('swagger/apiSecurity', handler) as object[] | undefined;
  return (security ?? []).some((entry) => scheme in entry);
}

/** @nestjs/swagger when the app installed it (an optional peer), else undefined. */
function loadSwagger(): SwaggerDecorators | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@nestjs/swagger') as SwaggerDecorators;
  } catch (error) {
    // Not installed: nothing to document. Installed but broken: say so rather than hide it.
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

/**
 * With @nestjs/swagger installed, marks every route the guard protects (all but `@Public()` ones, as the guards read them,
 * with the global guards, else those under `@UseGuards(JwtAuthGuard)`) with the security schemes
 * the configured transports use, a 401 response, and a 403 where roles are required. Runs when the
 * module is created, so it is in place before the app builds its OpenAPI document.
 */
export function documentSecurity(
  discovery: DiscoveryService,
  reflector: Reflector,
  config: AuthConfig,
  globalGuards: boolean,
): void {
  const swagger = loadSwagger();
  if (!swagger) return;
  const rules = new AccessRules(reflector);
  const schemes = [
    ...(config.tokenLocation.includes('headers')
      ? [[BEARER_SCHEME, swagger.ApiBearerAuth] as const]
      : []),
    ...(config.tokenLocation.includes('cookies')
      ? [[COOKIE_SCHEME, swagger.ApiCookieAuth] as const]
      : []),
  ];
  const unauthorized = swagger.ApiUnauthorizedResponse({
    description: 'No valid access token: see `code`',
  });
  const forbidden = swagger.ApiForbiddenResponse({ description: 'A required role is missing' });
  for (const { metatype } of discovery.getControllers()) {
    if (typeof metatype !== 'function') continue;
    const controller = metatype as Type;
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
      const handler: unknown = descriptor?.value;
      if (!descriptor || typeof handler !== 'function' || name === 'constructor') continue;
      if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue; // not a route
      const targets = [handler, controller];
      const rule = rules.rule(controller, handler);
      if (rule.kind === 'public') continue;
      const guarded =
        globalGuards ||
        targets.some((t) =>
          ((Reflect.getMetadata(GUARDS_METADATA, t) as unknown[] | undefined) ?? []).some(
            (guard) =>
              guard instanceof JwtAuthGuard ||
              (typeof guard === 'function' &&
                (guard === JwtAuthGuard || guard.prototype instanceof JwtAuthGuard)),
          ),
        );
      if (!guarded) continue;
      for (const [scheme, decorator] of schemes) {
        if (!names(handler, scheme)) decorator(scheme)(prototype, name, descriptor);
      }
      unauthorized(prototype, name, descriptor); // responses are keyed by status: no repeats
      if (rule.kind === 'roles') {
        forbidden(prototype, name, descriptor);
      }
    }
  }
}

/**
 * Adds TokenGuard's security schemes to a swagger DocumentBuilder: bearer JWT and/or the access
 * cookie (its real name, `__Host-` prefix included), as configured.
 */
export function addAuthSchemes<B extends SecuritySchemeBuilder<B>>(
  builder: B,
  app: INestApplicationContext,
): B {
  const config = app.get(AuthConfig, { strict: false });
  let result = builder;
  if (config.tokenLocation.includes('headers')) {
    result = result.addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      BEARER_SCHEME,
    );
  }
  if (config.tokenLocation.includes('cookies')) {
    const cookie = app.get(CookieTransport, { strict: false }).accessCookieName;
    result = result.addCookieAuth(cookie, { type: 'apiKey', in: 'cookie' }, COOKIE_SCHEME);
  }
  return result;
}
