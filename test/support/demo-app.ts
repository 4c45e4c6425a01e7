import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createDemoApp } from '../demo/create-demo-app';
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

/** Boots the real demo app on an ephemeral port, with a fresh random secret and a hand-driven clock. */
export async function startDemo(env: NodeJS.ProcessEnv = {}): Promise<RunningDemo> {
  const secret = env.JWT_SECRET ?? randomBytes(48).toString('base64url');
  const asymmetric = Boolean(env.JWT_PRIVATE_KEY || env.JWT_PRIVATE_KEY_FILE);
  const clock = new TestClock();
  const app = await createDemoApp({
    env: asymmetric ? env : { ...env, JWT_SECRET: secret },
    clock,
    logger: false,
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
