import {
  Controller,
  Get,
  Module,
  type DynamicModule,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CurrentUser, type AuthPrincipal } from '../../src/index';

/** GET /me answers the caller's `sub`: the smallest guarded route. */
@Controller()
export class MeController {
  @Get('me') me(@CurrentUser() user: AuthPrincipal): string {
    return user.sub;
  }
}

/** A minimal Nest app around one AuthModule registration, initialised (not listening). */
export async function bootApp(
  authModule: DynamicModule,
  controllers: Type | Type[] = MeController,
): Promise<INestApplication> {
  @Module({ imports: [authModule], controllers: [controllers].flat() })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  return app.init();
}
