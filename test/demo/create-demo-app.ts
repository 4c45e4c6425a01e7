import 'reflect-metadata';
import {
  Logger,
  ValidationPipe,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
  type NestApplicationOptions,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ValidationError } from 'class-validator';
import helmet, { type HelmetOptions } from 'helmet';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { addAuthSchemes, AuthError, createSocketIoAdapter, type Clock } from '../../src/index';
import { loadDemoConfig, type DemoConfig } from './demo-config';
import { DemoModule } from './demo.module';
import { applyBodyRules } from './fastify-body';
import { rejectHostileJson } from './json-shape';
import { BODY_LIMIT_KB, requireJsonBody } from './request-body';
import { NOT_FOUND } from './request-errors.filter';

/**
 * helmet's headers on every response, with a CSP the demo page meets: its script and styles
 * come from their own files, so no 'unsafe-inline' is needed and injected markup cannot run.
 * Frames are refused twice (`frame-ancestors`, and `X-Frame-Options` for older browsers).
 * HSTS is ignored by browsers over plain HTTP (localhost), so it is safe to send always.
 */
const SECURITY_HEADERS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      objectSrc: ["'none'"],
    },
  },
  xFrameOptions: { action: 'deny' },
  strictTransportSecurity: { maxAge: 2 * 365 * 24 * 60 * 60, includeSubDomains: true },
  xXssProtection: true, // sends `X-XSS-Protection: 0`: the old filter itself enabled XSS leaks
};

/**
 * How long a request may take to arrive whole, headers and body: a login or refresh body is a
 * few hundred bytes, so a client still sending after this is holding a connection open.
 */
const REQUEST_TIMEOUT_MS = 30_000;

export interface DemoAppOptions {
  /** Read from `env` (default process.env) when not given. */
  config?: DemoConfig;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  logger?: false | LoggerService;
  /** Another module in the same shell, without TokenGuard: the bench's ceiling (bench/ceiling.ts). */
  module?: DynamicModule;
}

/**
 * Builds the demo app (not listening yet): used by `npm run demo` and by every e2e test. On
 * Express by default, on Fastify with `HTTP_ADAPTER=fastify`.
 */
export async function createDemoApp(options: DemoAppOptions = {}): Promise<INestApplication> {
  const { clock, logger } = options;
  const config = options.config ?? loadDemoConfig(options.env ?? process.env);
  const module = options.module ?? DemoModule.register(config, clock);
  const settings: NestApplicationOptions = {
    logger: logger ?? ['log', 'warn', 'error'],
    // Throw instead of exiting, so callers (main, tests) decide what a bad configuration does.
    abortOnError: false,
  };
  const app =
    config.adapter === 'fastify'
      ? await createOnFastify(module, settings)
      : await createOnExpress(module, settings);
  // socket.io gateways (the /events namespace) authenticate at the handshake.
  if (!options.module) app.useWebSocketAdapter(createSocketIoAdapter(app));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      exceptionFactory: (errors: ValidationError[]) =>
        new AuthError('AUTH_REQUEST_INVALID', 400, describe(errors)),
    }),
  );
  serveOpenApi(app, !options.module);
  for (const warning of config.warnings) new Logger('Demo').warn(warning);
  if (config.adapter === 'fastify') {
    // Fastify takes no routes once ready: initialise here, after every route is declared.
    await app.init();
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  }
  return app;
}

async function createOnExpress(
  module: DynamicModule,
  settings: NestApplicationOptions,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    ...settings,
    // JSON only: a form-encoded body would let any site's HTML form post to the API (login CSRF).
    bodyParser: false,
  });
  app.disable('x-powered-by');
  const server: Server = app.getHttpServer();
  server.headersTimeout = server.requestTimeout = REQUEST_TIMEOUT_MS;
  app.use(helmet(SECURITY_HEADERS));
  app.use(requireJsonBody());
  app.useBodyParser('json', { limit: `${BODY_LIMIT_KB}kb` });
  app.use(rejectHostileJson());
  return app;
}

type ErrorHandler = Parameters<FastifyAdapter['setErrorHandler']>[0];

/**
 * Mercurius registers itself with `await`, which makes Fastify build every route declared so
 * far with the error handler of that moment; Nest sets its own (which sends body-parser errors
 * through the exception filters) only later, so those routes would answer parser errors with
 * Fastify's default body. A root handler set first, delegating to whichever one Nest sets, keeps
 * every route on Nest's.
 */
class DemoFastifyAdapter extends FastifyAdapter {
  private handler?: ErrorHandler;

  constructor(options: object) {
    super(options as never);
    super.setErrorHandler((error, request, reply): void => {
      if (this.handler) void this.handler.call(this.getInstance(), error, request, reply);
      else void reply.send(error);
    });
  }

  override setErrorHandler(handler: ErrorHandler): ReturnType<FastifyAdapter['setErrorHandler']> {
    this.handler = handler;
    return this.getInstance();
  }
}

/** The same rules on Fastify: its JSON parser, its body limit, its plugins for cookies and helmet. */
async function createOnFastify(
  module: DynamicModule,
  settings: NestApplicationOptions,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    module,
    new DemoFastifyAdapter({
      bodyLimit: BODY_LIMIT_KB * 1024,
      requestTimeout: REQUEST_TIMEOUT_MS,
      http: { headersTimeout: REQUEST_TIMEOUT_MS },
      // A URL that is not valid percent-encoding reaches no route and no hook (so not helmet's):
      // answered as Express does, a coded 404, with the same headers as every other response.
      frameworkErrors: (_error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
        helmet(SECURITY_HEADERS)(
          request.raw,
          reply.raw,
          () => void reply.code(404).send(NOT_FOUND),
        ),
    }),
    // No form parser (login CSRF, as on Express); Fastify's own JSON parser stays.
    { ...settings, bodyParser: false },
  );
  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, SECURITY_HEADERS);
  applyBodyRules(app.getHttpAdapter().getInstance());
  return app;
}

/**
 * The validation failures, each said once. An unknown field is not named: its name is the
 * client's text, and reflecting it (or a thousand of them) is not the answer's job.
 */
function describe(errors: ValidationError[]): string {
  const messages = errors.flatMap((e) =>
    e.constraints?.whitelistValidation
      ? ['The body has fields this route does not accept']
      : Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` }),
  );
  return [...new Set(messages)].join('; ');
}

/** The OpenAPI document as JSON at /openapi.json (no UI: its inline scripts would break the CSP). */
function serveOpenApi(app: INestApplication, withAuth: boolean): void {
  const builder = new DocumentBuilder()
    .setTitle('TokenGuard demo')
    .setDescription('JWT authentication: login, refresh, logout, guarded and role-checked routes.');
  const document = SwaggerModule.createDocument(
    app,
    (withAuth ? addAuthSchemes(builder, app) : builder).build(),
  );
  SwaggerModule.setup('docs', app, document, {
    ui: false,
    raw: ['json'],
    jsonDocumentUrl: 'openapi.json',
  });
}
