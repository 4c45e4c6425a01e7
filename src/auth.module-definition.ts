import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { AuthModuleOptions } from './auth-options.interface';
import { JwtAuthGuard } from './jwt/jwt-auth.guard';
import { createJwksController } from './keys/jwks.controller';
import { RolesGuard } from './roles/roles.guard';

/** Set beside the options because they decide which providers exist, before any factory runs. */
export interface AuthModuleExtras {
  /** Make AuthModule's exports visible to every module. Default false. */
  isGlobal: boolean;
  /**
   * Register JwtAuthGuard then RolesGuard as APP_GUARDs, so every route needs a valid access
   * token unless marked `@Public()`. Default true: a forgotten guard should not open a route.
   */
  globalGuards: boolean;
  /** Where the JWKS document is served (public keys only); `false` serves none. Default `/.well-known/jwks.json`. */
  jwksPath: string | false;
}

const GLOBAL_GUARDS: Provider[] = [
  { provide: APP_GUARD, useExisting: JwtAuthGuard },
  { provide: APP_GUARD, useExisting: RolesGuard },
];

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
      providers: [...(definition.providers ?? []), ...(extras.globalGuards ? GLOBAL_GUARDS : [])],
      controllers: extras.jwksPath ? [createJwksController(extras.jwksPath)] : [],
    }),
  )
  .build();
