import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  AuthModule,
  AuthService,
  CurrentUser,
  OptionalAuth,
  Public,
  Roles,
  type AuthPrincipal,
} from '../src/index';
import { bootApp } from './support/auth-app';
import { TestClock } from './support/test-clock';

const USERS: Record<string, { sub: string; roles: string[] }> = {
  admin: { sub: 'admin', roles: ['admin'] },
  reader: { sub: 'reader', roles: ['reader'] },
};

@Roles('admin')
@Controller('admin')
class AdminController {
  @Get() list() {
    return 'admins only';
  }

  @Public() @Get('status') status() {
    return 'open';
  }
}

@Public()
@Controller('open')
class OpenController {
  @Get() open() {
    return 'open';
  }

  @Roles('admin') @Get('locked') locked() {
    return 'admins only';
  }
}

@Controller()
class GreetingController {
  constructor(private readonly auth: AuthService) {}

  @OptionalAuth() @Get('greeting') greeting(@CurrentUser() user?: AuthPrincipal) {
    return { hello: user?.sub ?? 'guest' };
  }

  @Public() @Get('public-user') publicUser(@CurrentUser() user?: AuthPrincipal) {
    return { user: user?.sub ?? null };
  }

  @Post('logout') async logout(@CurrentUser() user: AuthPrincipal) {
    await this.auth.logout(user);
  }
}

describe('Decorators: the handler level wins, and optional authentication', () => {
  let app: INestApplication;
  let clock: TestClock;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    clock = new TestClock();
    const module = AuthModule.forRoot({
      secret: randomBytes(32).toString('base64url'),
      issuer: 'decorators-test',
      audience: 'decorators-test',
      clock,
      rateLimit: { login: false, default: false, lockout: false },
      validateCredentials: (username) => USERS[username] ?? null,
    });
    app = await bootApp(module, [AdminController, OpenController, GreetingController]);
    const auth = app.get(AuthService);
    for (const name of Object.keys(USERS))
      tokens[name] = (await auth.login(name, 'pw')).access_token;
  });

  afterAll(() => app.close());

  const get = (path: string, token?: string) => {
    const call = request(app.getHttpServer()).get(path);
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  };

  it('opens a @Public() method of a @Roles class to everyone, admins included', async () => {
    await get('/admin/status').expect(200, 'open');
    await get('/admin/status', tokens.reader).expect(200, 'open');
    await get('/admin/status', tokens.admin).expect(200, 'open');
    const refused = await get('/admin', tokens.reader).expect(403);
    expect(refused.body.code).toBe('AUTH_ROLE_REQUIRED');
    await get('/admin', tokens.admin).expect(200);
  });

  it('closes a @Roles method of a @Public class', async () => {
    await get('/open').expect(200);
    expect((await get('/open/locked').expect(401)).body.code).toBe('AUTH_TOKEN_MISSING');
    expect((await get('/open/locked', tokens.reader).expect(403)).body.code).toBe(
      'AUTH_ROLE_REQUIRED',
    );
    await get('/open/locked', tokens.admin).expect(200);
  });

  it('@OptionalAuth(): no token is a guest, a valid one the caller', async () => {
    expect((await get('/greeting').expect(200)).body).toEqual({ hello: 'guest' });
    expect((await get('/greeting', tokens.reader).expect(200)).body).toEqual({ hello: 'reader' });
  });

  it('@OptionalAuth(): a bad, expired or revoked token is refused, never ignored', async () => {
    const bad = await get('/greeting', `${tokens.reader}x`).expect(401);
    expect(bad.body.code).toBe('AUTH_TOKEN_SIGNATURE_INVALID');
    expect((await get('/greeting', 'not-a-jwt').expect(401)).body.code).toBe(
      'AUTH_TOKEN_MALFORMED',
    );
    const auth = app.get(AuthService);
    const { access_token } = await auth.login('reader', 'pw');
    await request(app.getHttpServer())
      .post('/logout')
      .set('Authorization', `Bearer ${access_token}`)
      .expect(201);
    expect((await get('/greeting', access_token).expect(401)).body.code).toBe('AUTH_TOKEN_REVOKED');
    const { access_token: later } = await auth.login('reader', 'pw');
    clock.advance(3600);
    expect((await get('/greeting', later).expect(401)).body.code).toBe('AUTH_TOKEN_EXPIRED');
    clock.advance(-3600);
  });

  it('@Public() routes do not look at tokens at all', async () => {
    expect((await get('/public-user', tokens.reader).expect(200)).body).toEqual({ user: null });
    await get('/public-user', 'not-a-jwt').expect(200);
  });
});
