import 'reflect-metadata';
import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ValidationError } from 'class-validator';
import { AuthError, type Clock } from '../../src/index';
import { loadDemoConfig, type DemoConfig } from './demo-config';
import { DemoModule } from './demo.module';
import { rejectDeepJson } from './json-depth';

export interface DemoAppOptions {
  /** Read from `env` (default process.env) when not given. */
  config?: DemoConfig;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  logger?: false;
}

/** Builds the demo app (not listening yet): used by `npm run demo` and by every e2e test. */
export async function createDemoApp(options: DemoAppOptions = {}): Promise<NestExpressApplication> {
  const { clock, logger } = options;
  const config = options.config ?? loadDemoConfig(options.env ?? process.env);
  const app = await NestFactory.create<NestExpressApplication>(DemoModule.register(config, clock), {
    logger: logger ?? ['log', 'warn', 'error'],
    // JSON only: a form-encoded body would let any site's HTML form post to the API (login CSRF).
    bodyParser: false,
    // Throw instead of exiting, so callers (main, tests) decide what a bad configuration does.
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.useBodyParser('json', { limit: '16kb' });
  app.use(rejectDeepJson(16));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      exceptionFactory: (errors: ValidationError[]) =>
        new AuthError('AUTH_REQUEST_INVALID', 400, describe(errors)),
    }),
  );
  for (const warning of config.warnings) new Logger('Demo').warn(warning);
  return app;
}

function describe(errors: ValidationError[]): string {
  return errors
    .flatMap((e) => Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` }))
    .join('; ');
}
