import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthModule, type Clock } from '../../src/index';
import { AppController } from './app.controller';
import { AuthController } from './auth.controller';
import type { DemoConfig } from './demo-config';
import { DemoUsersService } from './demo-users.service';
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
    const agents = new SessionAgents();
    const users: DynamicModule = {
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
    const auth = AuthModule.forRootAsync({
      imports: [users],
      inject: [DemoUsersService],
      useFactory: (service: DemoUsersService) => ({
        ...config.auth,
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
      imports: [users, auth, demoGraphqlModule(config.adapter, auth)],
      controllers: [AuthController, AppController],
      // Registered in the root module, hence before AuthModule's filter, which Nest then asks
      // first: AuthErrors keep the library's answer, this filter takes the other 4xx.
      providers: [
        { provide: APP_FILTER, useClass: RequestErrorsFilter },
        DemoResolver,
        EventsGateway,
      ],
    };
  }
}
