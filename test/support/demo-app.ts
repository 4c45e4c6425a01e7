import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { LoggerService } from '@nestjs/common';
import { createDemoApp } from '../demo/create-demo-app';
import { loadDemoConfig, type DemoConfig } from '../demo/demo-config';
import { DemoUsersService } from '../demo/demo-users.service';
import { TestClock } from './test-clock';

export const PASSWORDS = {
  alice: 'alice-password',
  bob: 'bob-password',
  carol: 'carol-password',
} as const;
export type DemoUsername = keyof typeof PASSWORDS;

export interface RunningDemo {
  app: INestApplication;
  http: ReturnType<typeof request>;
  clock: TestClock;
  /** The HMAC secret the demo signs with, so tests can forge tokens with the right key. */
  secret: string;
  users: DemoUsersService;
  login(username: DemoUsername): Promise<{ access_token: string; refresh_token: string }>;
  close(): Promise<void>;
}

/** What a test may change beyond the environment: AuthModule options (an audit sink), the logger. */
export interface DemoOverrides {
  auth?: Partial<DemoConfig['auth']>;
  logger?: false | LoggerService;
  /** The clock to run on: another instance's, to restart "the same app" at the same instant. */
  clock?: TestClock;
}

/** Boots the real demo app on an ephemeral port, with a fresh random secret and a hand-driven clock. */
export async function startDemo(
  given: NodeJS.ProcessEnv = {},
  { auth, logger = false, clock = new TestClock() }: DemoOverrides = {},
): Promise<RunningDemo> {
  // Suites log in and refresh far more than the limits allow from one address; the limits have
  // their own tests.
  // The e2e-fastify Jest project runs the same suites on Fastify.
  const adapter = (globalThis as { DEMO_ADAPTER?: string }).DEMO_ADAPTER;
  const env: NodeJS.ProcessEnv = {
    LOGIN_RATE_LIMIT: '10000/60s',
    REFRESH_RATE_LIMIT: '10000/60s',
    ...(adapter && { HTTP_ADAPTER: adapter }),
    ...given,
  };
  const secret = env.JWT_SECRET ?? randomBytes(48).toString('base64url');
  const asymmetric = Boolean(env.JWT_PRIVATE_KEY || env.JWT_PRIVATE_KEY_FILE);
  const config = loadDemoConfig(asymmetric ? env : { ...env, JWT_SECRET: secret });
  const app = await createDemoApp({
    config: { ...config, auth: { ...config.auth, ...auth } },
    clock,
    logger,
  });
  await app.init();
  const http = request(app.getHttpServer());
  return {
    app,
    http,
    clock,
    secret,
    users: app.get(DemoUsersService),
    async login(username) {
      const res = await http
        .post('/auth/login')
        .send({ username, password: PASSWORDS[username] })
        .expect(200);
      return res.body as { access_token: string; refresh_token: string };
    },
    close: () => app.close(),
  };
}
