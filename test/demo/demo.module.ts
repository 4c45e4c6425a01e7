import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule, type Clock } from '../../src/index';
import { AppController, PageController } from './app.controller';
import { AuthController } from './auth.controller';
import type { DemoConfig } from './demo-config';
import { cacheRevocation, demoCacheModule } from './demo-cache';
import { DemoUsersService } from './demo-users.service';
import { HealthController } from './health.controller';
import { EventsGateway } from './events.gateway';
import { demoGraphqlModule } from './graphql.module';
import { DemoResolver } from './graphql.resolver';
import { SessionAgents } from './session-agents';
import { RequestErrorsFilter } from './request-errors.filter';

export const DEMO_CONFIG = Symbol('DEMO_CONFIG');

@Module({})
export class DemoModule {
  /** The demo app, wired the way a user's app would be: AuthModule.forRootAsync with its user service. */
  static register(config: DemoConfig, clock?: Clock): DynamicModule {
    if (config.role === 'resource-server') return DemoModule.resourceServer(config, clock);
    const agents = new SessionAgents();
    const users = usersModule(config);
    const cacheManager = config.revocationStore === 'cache-manager';
    const auth = AuthModule.forRootAsync({
      imports: [users, ...(cacheManager ? [demoCacheModule(config)] : [])],
      inject: [DemoUsersService, ...(cacheManager ? [CACHE_MANAGER] : [])],
      useFactory: (service: DemoUsersService, cache?: Cache) => ({
        ...config.auth,
        ...(cache && cacheRevocation(config, cache)),
        clock,
        validateCredentials: (username, password) =>
          service.validateCredentials(username, password),
        findUser: (sub) => service.findById(sub),
        additionalClaims: (user) => ({ username: user.username }),
        inspectRequest: (principal, request) => agents.inspect(principal, request),
      }),
    });
    return {
      module: DemoModule,
      imports: [users, auth, demoGraphqlModule(config.adapter, auth), TerminusModule],
      controllers: [AuthController, PageController, AppController, HealthController],
      // Registered in the root module, hence before AuthModule's filter, which Nest then asks
      // first: AuthErrors keep the library's answer, this filter takes the other 4xx.
      providers: [
        { provide: APP_FILTER, useClass: RequestErrorsFilter },
        DemoResolver,
        EventsGateway,
      ],
    };
  }

  /**
   * `DEMO_ROLE=resource-server`: the API alone, verifying the auth service's tokens through its
   * JWKS (`JWKS_URI`) and reading its revocations read-only. No sign-in, page, GraphQL or socket.
   */
  private static resourceServer(config: DemoConfig, clock?: Clock): DynamicModule {
    return {
      module: DemoModule,
      imports: [usersModule(config), AuthModule.forRoot({ ...config.auth, clock }), TerminusModule],
      controllers: [AppController, HealthController],
      providers: [{ provide: APP_FILTER, useClass: RequestErrorsFilter }],
    };
  }
}

/** The demo's users (in memory, argon2id hashes made at start-up). */
function usersModule(config: DemoConfig): DynamicModule {
  return {
    module: class DemoUsersModule {},
    providers: [
      {
        provide: DemoUsersService,
        useFactory: async () => {
          const service = new DemoUsersService();
          await service.init(config.passwords);
          return service;
        },
      },
    ],
    exports: [DemoUsersService],
  };
}
