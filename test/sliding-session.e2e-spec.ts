import { Controller, Get, HttpCode, Post, StreamableFile } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import request from 'supertest';
import {
  AuthModule,
  AuthService,
  CurrentUser,
  NoTokenRenewal,
  type AuthPrincipal,
} from '../src/index';
import { bootApp } from './support/auth-app';
import { startDemo, type RunningDemo } from './support/demo-app';
import { decode } from './support/forge';
import { TestClock } from './support/test-clock';
import { deleteKeys, describeWithRedis, REDIS_URL, testPrefix } from './support/redis';

const MINUTE = 60;

describe('sliding sessions through X-New-Token (demo: 15 min tokens, renewal in the last 5)', () => {
  let demo: RunningDemo;
  beforeEach(async () => (demo = await startDemo({ SESSION_MAX_AGE: '1h' })));
  afterEach(() => demo.close());

  const get = (path: string, token: string) =>
    demo.http.get(path).set('Authorization', `Bearer ${token}`);

  it('does not renew a token with more than the threshold left', async () => {
    const { access_token } = await demo.login('alice');
    demo.clock.advance(9 * MINUTE);
    const res = await get('/protected', access_token).expect(200);
    expect(res.headers['x-new-token']).toBeUndefined();
  });

  it('renews a token under the threshold: same session, new jti, exposed to browsers, body untouched', async () => {
    const { access_token } = await demo.login('alice');
    const plain = (await get('/protected', access_token).expect(200)).body;
    demo.clock.advance(11 * MINUTE);
    const res = await get('/protected', access_token).expect(200);
    expect(res.body).toEqual(plain);
    const renewed = res.headers['x-new-token'] as string;
    expect(res.headers['access-control-expose-headers']).toBe('X-New-Token');
    expect(res.headers['cache-control']).toBe('no-store'); // it carries a token now
    const before = decode(access_token).payload;
    const after = decode(renewed).payload;
    expect(after).toMatchObject({
      sid: before.sid,
      sub: before.sub,
      roles: ['admin'],
      auth_time: before.auth_time,
    });
    expect(after.jti).not.toBe(before.jti);
    expect(after.exp).toBeGreaterThan(before.exp as number);
    await get('/protected', renewed).expect(200);
  });

  it('re-reads roles through the user check when renewing', async () => {
    const { access_token } = await demo.login('bob');
    demo.clock.advance(11 * MINUTE);
    demo.users.update('bob', { roles: ['moderator', 'admin'] });
    try {
      const renewed = (await get('/protected', access_token)).headers['x-new-token'] as string;
      expect(decode(renewed).payload.roles).toEqual(['moderator', 'admin']);
    } finally {
      demo.users.update('bob', { roles: ['moderator'] });
    }
  });

  it('adds no header to error responses or public routes', async () => {
    const { access_token } = await demo.login('carol');
    demo.clock.advance(11 * MINUTE);
    const forbidden = await get('/admin/users', access_token).expect(403);
    expect(forbidden.headers['x-new-token']).toBeUndefined();
    const open = await get('/health', access_token).expect(200);
    expect(open.headers['x-new-token']).toBeUndefined();
  });

  it('never renews a revoked session, and logout refuses tokens it handed out by renewal', async () => {
    const { access_token } = await demo.login('alice');
    demo.clock.advance(11 * MINUTE);
    const renewed = (await get('/protected', access_token)).headers['x-new-token'] as string;
    await demo.http.post('/auth/logout').set('Authorization', `Bearer ${access_token}`).expect(200);
    const refused = await get('/protected', access_token).expect(401);
    expect(refused.headers['x-new-token']).toBeUndefined();
    expect((await get('/protected', renewed).expect(401)).body.code).toBe('AUTH_TOKEN_REVOKED');
  });

  it('gives concurrent requests with one old token the same new token', async () => {
    const { access_token } = await demo.login('bob');
    demo.clock.advance(11 * MINUTE);
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => get('/protected', access_token)),
    );
    const tokens = new Set(responses.map((r) => r.headers['x-new-token']));
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).toEqual(expect.any(String));
  });

  it('stops at the absolute session age: renewed tokens never outlive it, and none comes after', async () => {
    const { access_token } = await demo.login('alice');
    const loginAt = decode(access_token).payload.auth_time as number;
    let token = access_token;
    for (let elapsed = 11; elapsed < 60; elapsed += 11) {
      demo.clock.advance(11 * MINUTE);
      const renewed = (await get('/protected', token).expect(200)).headers['x-new-token'];
      if (!renewed) break;
      expect(decode(renewed).payload.exp as number).toBeLessThanOrEqual(loginAt + 3600);
      token = renewed;
    }
  });

  it('caps every token at the session max age, and refuses a refresh once it has passed', async () => {
    const short = await startDemo({ SESSION_MAX_AGE: '10m' });
    try {
      const { access_token, refresh_token } = await short.login('alice');
      const { auth_time, exp } = decode(refresh_token).payload as {
        auth_time: number;
        exp: number;
      };
      expect(exp).toBeLessThanOrEqual(auth_time + 600);
      expect(decode(access_token).payload.exp as number).toBeLessThanOrEqual(auth_time + 600);
      // 10 s past the cap: inside the 30 s clock leeway, so only the session check refuses it.
      short.clock.advance(10 * MINUTE + 10);
      const res = await short.http.post('/auth/refresh').send({ refresh_token }).expect(401);
      expect(res.body.code).toBe('AUTH_SESSION_EXPIRED');
    } finally {
      await short.close();
    }
  });

  it('does not renew on the response to a logout', async () => {
    const { access_token } = await demo.login('alice');
    demo.clock.advance(11 * MINUTE);
    const res = await demo.http
      .post('/auth/logout')
      .set('Authorization', `Bearer ${access_token}`)
      .expect((r) => expect(r.status).toBeLessThan(300));
    expect(res.headers['x-new-token']).toBeUndefined();
    await get('/protected', access_token).expect(401);
  });
});

describe('sliding sessions on every response shape', () => {
  @Controller()
  class ShapesController {
    @Get('json') json() {
      return { ok: true };
    }

    @Post('empty') @HttpCode(204) empty() {}

    @Get('stream') stream() {
      return new StreamableFile(Readable.from(['chunk-1,', 'chunk-2']));
    }

    @NoTokenRenewal() @Get('opted-out') optedOut() {
      return { ok: true };
    }

    constructor(private readonly auth: AuthService) {}

    /** A logout route without @NoTokenRenewal: ending the session must stop the renewal. */
    @Post('sign-out') @HttpCode(200) async signOut(@CurrentUser() principal: AuthPrincipal) {
      await this.auth.logout(principal);
      return { ok: true };
    }
  }

  it('renews on JSON, 204 and streamed responses alike, and not where a route opts out', async () => {
    const clock = new TestClock();
    const app = await bootApp(
      AuthModule.forRoot({
        secret: randomBytes(32),
        issuer: 'shapes',
        audience: 'shapes-api',
        clock,
        sliding: { renewWithinSeconds: 300 },
        validateCredentials: () => ({ sub: 'u', roles: [] }),
      }),
      ShapesController,
    );
    try {
      const { access_token } = await app.get(AuthService).login('u', 'p');
      clock.advance(11 * MINUTE);
      const http = request(app.getHttpServer());
      const auth = { Authorization: `Bearer ${access_token}` };
      const json = await http.get('/json').set(auth).expect(200, { ok: true });
      const empty = await http.post('/empty').set(auth).expect(204);
      const stream = await http.get('/stream').set(auth).expect(200);
      expect(String(stream.text || stream.body)).toContain('chunk-1,chunk-2');
      for (const res of [json, empty, stream])
        expect(res.headers['x-new-token']).toEqual(expect.any(String));
      expect(
        (await http.get('/opted-out').set(auth).expect(200)).headers['x-new-token'],
      ).toBeUndefined();
      const signOut = await http.post('/sign-out').set(auth).expect(200);
      expect(signOut.headers['x-new-token']).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describeWithRedis('sliding sessions after the store lost its records', () => {
  const prefix = testPrefix();
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo({ REDIS_URL, REDIS_KEY_PREFIX: prefix })));
  afterAll(async () => {
    await demo.close();
    await deleteKeys(prefix);
  });

  const get = (token: string) =>
    demo.http.get('/protected').set('Authorization', `Bearer ${token}`);

  it('renews no token the store no longer knows, so a logged-out token lives only to its exp', async () => {
    const loggedOut = (await demo.login('alice')).access_token;
    await demo.http.post('/auth/logout').set('Authorization', `Bearer ${loggedOut}`).expect(200);
    const live = (await demo.login('bob')).access_token;
    await get(loggedOut).expect(401);

    await deleteKeys(prefix); // a Redis restarted without persistence, a flush, an eviction
    const afterWipe = (await demo.login('carol')).access_token;
    demo.clock.advance(11 * MINUTE); // inside the renewal window
    try {
      // What a wipe costs: the logged-out token is accepted again, but nothing extends it.
      const revived = await get(loggedOut).expect(200);
      expect(revived.headers['x-new-token']).toBeUndefined();
      expect((await get(live).expect(200)).headers['x-new-token']).toBeUndefined();
      // A session started after the wipe has its record, and renews as usual.
      expect((await get(afterWipe).expect(200)).headers['x-new-token']).toEqual(expect.any(String));
      demo.clock.advance(5 * MINUTE); // past the 15-minute exp and its 30 s leeway
      expect((await get(loggedOut).expect(401)).body.code).toBe('AUTH_TOKEN_EXPIRED');
    } finally {
      demo.clock.advance(-16 * MINUTE);
    }
  });
});
