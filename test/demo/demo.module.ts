import { Module, type DynamicModule } from '@nestjs/common';
import { AuthModule, type Clock } from '../../src/index';
import { AppController } from './app.controller';
import { AuthController } from './auth.controller';
import type { DemoConfig } from './demo-config';
import { DemoUsersService } from './demo-users.service';

export const DEMO_CONFIG = Symbol('DEMO_CONFIG');

@Module({})
export class DemoModule {
  /** The demo app, wired the way a user's app would be: AuthModule.forRootAsync with its user service. */
  static register(config: DemoConfig, clock?: Clock): DynamicModule {
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
    return {
      module: DemoModule,
      imports: [
        users,
        AuthModule.forRootAsync({
          imports: [users],
          inject: [DemoUsersService],
          useFactory: (service: DemoUsersService) => ({
            ...config.auth,
            clock,
            validateCredentials: (username, password) =>
              service.validateCredentials(username, password),
            findUser: (sub) => service.findById(sub),
            additionalClaims: (user) => ({ username: user.username }),
          }),
        }),
      ],
      controllers: [AuthController, AppController],
    };
  }
}
