import fastifyCookie from '@fastify/cookie';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  Req,
  Res,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  AuthModule,
  AuthService,
  CookieTransport,
  CurrentUser,
  LoginEndpoint,
  Public,
  Roles,
  type AuthPrincipal,
  type ClientRequest,
} from '../src/index';
import { cookieHeader, setCookies } from './support/cookies';
import { TestClock } from './support/test-clock';

const USERS: Record<string, { sub: string; roles: string[] }> = {
  ann: { sub: 'ann', roles: ['editor'] },
  bob: { sub: 'bob', roles: ['reader'] },
};

@Controller()
class ContractController {
  constructor(
    private readonly auth: AuthService,
    private readonly cookies: CookieTransport,
  ) {}

  @Public()
  @LoginEndpoint()
  @Post('login')
  @HttpCode(200)
  async login(
    @Body() body: { username: string },
    @Req() req: ClientRequest,
    @Res({ passthrough: true }) res: unknown,
  ) {
    const pair = await this.auth.login(body.username, 'pw', req);
    return this.cookies.deliver(res, pair);
  }

  @Get('me') me(@CurrentUser() user: AuthPrincipal) {
    return { sub: user.sub };
  }

  @Roles('editor') @Post('edit') @HttpCode(200) edit() {
    return { edited: true };
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@CurrentUser() user: AuthPrincipal, @Res({ passthrough: true }) res: unknown) {
    await this.auth.logout(user);
    this.cookies.clear(res);
    return { ok: true };
  }
}

/**
 * The HTTP contract on both adapters TokenGuard supports: error bodies and their headers, cookies,
 * CSRF, X-New-Token and 429s are written through Nest's adapter, never Express's own response.
 */
describe.each(['express', 'fastify'] as const)('the HTTP contract on %s', (adapter) => {
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  const clock = new TestClock();

  beforeAll(async () => {
    @Module({
      imports: [
        AuthModule.forRoot({
          secret: randomBytes(32),
          issuer: 'adapters',
          audience: 'adapters-api',
          clock,
          tokenLocation: ['headers', 'cookies'],
          cookies: { secure: false, csrfSecret: randomBytes(32) },
          sliding: { renewWithinSeconds: 300 },
          rateLimit: { login: { limit: 5, ttlSeconds: 60 } },
          validateCredentials: (username) => USERS[username] ?? null,
        }),
      ],
      controllers: [ContractController],
    })
    class AppModule {}
    if (adapter === 'fastify') {
      const fastify = await NestFactory.create<NestFastifyApplication>(
        AppModule,
        new FastifyAdapter(),
        { logger: false, abortOnError: false },
      );
      await fastify.register(fastifyCookie);
      app = fastify;
    } else {
      app = await NestFactory.create(AppModule, new ExpressAdapter(), {
        logger: false,
        abortOnError: false,
      });
    }
    await app.init();
    if (adapter === 'fastify')
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    http = request(app.getHttpServer());
  });
  afterAll(() => app.close());

  const login = (username: string) => http.post('/login').send({ username }).expect(200);

  it('answers 401 with the code and WWW-Authenticate', async () => {
    const missing = await http.get('/me').expect(401);
    expect(missing.body).toMatchObject({ statusCode: 401, code: 'AUTH_TOKEN_MISSING' });
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const bad = await http.get('/me').set('Authorization', 'Bearer a.b.c').expect(401);
    expect(bad.body.code).toBe('AUTH_TOKEN_MALFORMED');
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });

  it('answers 403 naming the roles', async () => {
    const { access_token } = (await login('bob')).body as { access_token: string };
    const res = await http.post('/edit').set('Authorization', `Bearer ${access_token}`).expect(403);
    expect(res.body).toMatchObject({ statusCode: 403, code: 'AUTH_ROLE_REQUIRED' });
  });

  /** Logs in and returns the Cookie header of all three cookies, and the CSRF token. */
  async function cookieSession(username: string) {
    const cookies = setCookies(await login(username));
    return {
      cookies,
      jar: cookieHeader(cookies, 'tg_access', 'tg_refresh', 'tg_csrf'),
      csrf: cookies.get('tg_csrf')?.value ?? '',
    };
  }

  it('sets HttpOnly SameSite=Strict cookies, and requires the CSRF token on a cookie POST', async () => {
    const { cookies, jar, csrf } = await cookieSession('ann');
    const access = cookies.get('tg_access')?.attributes.join('; ');
    expect(access).toMatch(/HttpOnly/i);
    expect(access).toMatch(/SameSite=Strict/i);
    await http.get('/me').set('Cookie', jar).expect(200);
    const refused = await http.post('/edit').set('Cookie', jar).expect(403);
    expect(refused.body.code).toBe('AUTH_CSRF_INVALID');
    await http.post('/edit').set('Cookie', jar).set('X-CSRF-Token', csrf).expect(200);
  });

  it('clears every cookie on logout, and the session is over', async () => {
    const { jar, csrf } = await cookieSession('ann');
    const out = await http.post('/logout').set('Cookie', jar).set('X-CSRF-Token', csrf).expect(200);
    const cleared = setCookies(out);
    for (const name of ['tg_access', 'tg_refresh', 'tg_csrf']) {
      expect(cleared.get(name)?.value).toBe('');
      expect(cleared.get(name)?.attributes.join('; ')).toMatch(/Expires=Thu, 01 Jan 1970/i);
    }
    expect((await http.get('/me').set('Cookie', jar).expect(401)).body.code).toBe(
      'AUTH_TOKEN_REVOKED',
    );
  });

  it('renews a token close to expiry through X-New-Token, exposed to CORS', async () => {
    const { access_token } = (await login('ann')).body as { access_token: string };
    clock.advance(11 * 60);
    try {
      const res = await http.get('/me').set('Authorization', `Bearer ${access_token}`).expect(200);
      expect(res.headers['x-new-token']).toEqual(expect.any(String));
      expect(res.headers['access-control-expose-headers']).toContain('X-New-Token');
      expect(res.body).toEqual({ sub: 'ann' });
    } finally {
      clock.advance(-11 * 60);
    }
  });

  it('answers the login over the limit with 429, the code and Retry-After', async () => {
    clock.advance(120); // a fresh window
    for (let i = 0; i < 5; i++) await login('ann');
    const res = await http.post('/login').send({ username: 'ann' }).expect(429);
    expect(res.body).toMatchObject({ statusCode: 429, code: 'AUTH_RATE_LIMITED' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});
