import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_GUARD, DiscoveryService, Reflector } from '@nestjs/core';
import { AuthConfig } from './auth-options.validate';
import { documentSecurity } from './swagger/swagger-auth';
import type { AuthModuleOptions } from './auth-options.interface';
import { GlobalAuthGuard } from './jwt/global-auth.guard';
import { createJwksController } from './keys/jwks.controller';

/** Set beside the options because they decide which providers exist, before any factory runs. */
export interface AuthModuleExtras {
  /** Make AuthModule's exports visible to every module. Default false. */
  isGlobal: boolean;
  /**
   * Register one APP_GUARD that runs RateLimitGuard, JwtAuthGuard and RolesGuard where they
   * apply, so every route needs a valid access token unless marked `@Public()`, and the limits
   * hold where they are set. Default true: a forgotten guard should not open a route.
   */
  globalGuards: boolean;
  /** Where the JWKS document is served (public keys only); `false` serves none. Default `/.well-known/jwks.json`. */
  jwksPath: string | false;
}

/** Applies the OpenAPI security metadata when the module is created (see documentSecurity). */
const SWAGGER_SECURITY = Symbol('SWAGGER_SECURITY');

const GLOBAL_GUARDS: Provider[] = [{ provide: APP_GUARD, useExisting: GlobalAuthGuard }];

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE: AUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAuthOptions')
  .setExtras<AuthModuleExtras>(
    { isGlobal: false, globalGuards: true, jwksPath: '/.well-known/jwks.json' },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: [
        ...(definition.providers ?? []),
        ...(extras.globalGuards ? GLOBAL_GUARDS : []),
        {
          provide: SWAGGER_SECURITY,
          inject: [DiscoveryService, Reflector, AuthConfig],
          useFactory: (discovery: DiscoveryService, reflector: Reflector, config: AuthConfig) =>
            documentSecurity(discovery, reflector, config, extras.globalGuards),
        },
      ],
      controllers: extras.jwksPath ? [createJwksController(extras.jwksPath)] : [],
    }),
  )
  .build();
