import {
  Controller,
  Get,
  Injectable,
  Module,
  UseGuards,
  type DynamicModule,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { bootApp } from './support/auth-app';
import {
  AuthConfigError,
  AuthModule,
  AuthService,
  CurrentUser,
  JwtAuthGuard,
  Public,
  Roles,
  RolesGuard,
  type AuthModuleOptions,
  type AuthPrincipal,
  InvalidTokenError,
} from '../src/index';

const options = (): AuthModuleOptions => ({
  secret: randomBytes(32),
  issuer: 'registration-test',
  audience: 'registration-test-api',
  validateCredentials: (username) =>
    username === 'ann' ? { sub: 'ann', roles: ['editor'] } : null,
});

@Controller()
class GlobalController {
  @Public() @Get('open') open() {
    return 'open';
  }
  @Get('me') me(@CurrentUser() user: AuthPrincipal) {
    return user.sub;
  }
  @Roles('editor') @Get('edit') edit() {
    return 'edit';
  }
  @Roles('owner') @Get('own') own() {
    return 'own';
  }
}

@Injectable()
class OptionsFactory {
  createAuthOptions(): AuthModuleOptions {
    return options();
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsModule {}

const boot = (authModule: DynamicModule, controller: Type = GlobalController) =>
  bootApp(authModule, controller);

async function tokenFor(app: INestApplication): Promise<string> {
  return (await app.get(AuthService).login('ann', 'any')).access_token;
}

describe.each([
  ['forRoot', () => AuthModule.forRoot(options())],
  ['forRootAsync with useFactory', () => AuthModule.forRootAsync({ useFactory: () => options() })],
  [
    'forRootAsync with useClass',
    () => AuthModule.forRootAsync({ imports: [OptionsModule], useClass: OptionsFactory }),
  ],
])('AuthModule.%s with global guards (the default)', (_name, register) => {
  let app: INestApplication;
  let token: string;
  beforeAll(async () => {
    app = await boot(register());
    token = await tokenFor(app);
  });
  afterAll(() => app.close());

  it('protects every route unless @Public()', async () => {
    await request(app.getHttpServer()).get('/open').expect(200, 'open');
    await request(app.getHttpServer()).get('/me').expect(401);
    await request(app.getHttpServer())
      .get('/me')
      .set('Authorization', `Bearer ${token}`)
      .expect(200, 'ann');
  });

  it('applies @Roles globally', async () => {
    await request(app.getHttpServer())
      .get('/edit')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    await request(app.getHttpServer())
      .get('/own')
      .set('Authorization', `Bearer ${token}`)
      .expect(403);
  });
});

describe('AuthModule with globalGuards: false', () => {
  @Controller()
  class LocalController {
    @Get('open') open() {
      return 'open';
    }
    @UseGuards(JwtAuthGuard, RolesGuard) @Roles('editor') @Get('edit') edit() {
      return 'edit';
    }
  }

  it('leaves routes open until a controller uses the guards', async () => {
    const app = await boot(
      AuthModule.forRoot({ ...options(), globalGuards: false }),
      LocalController,
    );
    try {
      await request(app.getHttpServer()).get('/open').expect(200);
      await request(app.getHttpServer()).get('/edit').expect(401);
      await request(app.getHttpServer())
        .get('/edit')
        .set('Authorization', `Bearer ${await tokenFor(app)}`)
        .expect(200);
    } finally {
      await app.close();
    }
  });
});

describe('two apps in one process', () => {
  it('keep their own keys: a token of one is refused by the other', async () => {
    const a = await boot(AuthModule.forRoot(options()));
    const b = await boot(AuthModule.forRoot(options()));
    try {
      const tokenA = await tokenFor(a);
      await request(a.getHttpServer())
        .get('/me')
        .set('Authorization', `Bearer ${tokenA}`)
        .expect(200);
      await request(b.getHttpServer())
        .get('/me')
        .set('Authorization', `Bearer ${tokenA}`)
        .expect(401);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('hooks and principals', () => {
  @Controller()
  class PrincipalController {
    @Get('me') me(@CurrentUser() user: AuthPrincipal) {
      return user.sub;
    }

    @Get('app-error') appError() {
      throw new InvalidTokenError('AUTH_TOKEN_REVOKED', 'jeton révoqué ✓\r\nX-Injected: "yes"');
    }

    /** A careless handler: it must not change what the next request with this token sees. */
    @Get('mutate') mutate(@CurrentUser() user: AuthPrincipal) {
      try {
        (user.roles as string[]).push('admin');
        (user.claims as { sub: string }).sub = 'someone-else';
      } catch {
        // frozen: the change is refused
      }
      return { roles: user.roles };
    }
  }

  it('keeps one request from changing the principal another request gets', async () => {
    const app = await boot(AuthModule.forRoot(options()), PrincipalController);
    try {
      const token = await tokenFor(app);
      for (let i = 0; i < 3; i++) {
        const res = await request(app.getHttpServer())
          .get('/mutate')
          .set('Authorization', `Bearer ${token}`);
        expect(res.body).toEqual({ roles: ['editor'] });
      }
      await request(app.getHttpServer())
        .get('/me')
        .set('Authorization', `Bearer ${token}`)
        .expect(200, 'ann');
    } finally {
      await app.close();
    }
  });

  it('keeps an app-made error message out of the header where it would break it', async () => {
    const app = await boot(AuthModule.forRoot(options()), PrincipalController);
    try {
      const token = await tokenFor(app);
      const res = await request(app.getHttpServer())
        .get('/app-error')
        .set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(
        'Bearer error="invalid_token", error_description="jeton rvoqu X-Injected: yes"',
      );
      expect(res.headers['x-injected']).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it("reports a failing findUser as the server's fault, not as a bad token", async () => {
    const failing = AuthModule.forRoot({
      ...options(),
      findUser: () => Promise.reject(new Error('database down')),
    });
    const app = await boot(failing, PrincipalController);
    try {
      const token = await tokenFor(app);
      for (let i = 0; i < 2; i++) {
        const res = await request(app.getHttpServer())
          .get('/me')
          .set('Authorization', `Bearer ${token}`);
        expect(res.status).toBe(500);
        expect(res.headers['www-authenticate']).toBeUndefined();
        expect(res.text).not.toContain('database down');
      }
    } finally {
      await app.close();
    }
  });
});

describe('start-up validation', () => {
  it('refuses to boot with one error naming every bad option', async () => {
    const bad = {
      algorithm: 'HS256',
      secret: 'changeme',
      issuer: '',
      audience: undefined,
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 60,
    } as unknown as AuthModuleOptions;
    const error = await boot(AuthModule.forRoot(bad)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthConfigError);
    const message = (error as Error).message;
    for (const part of [
      'issuer is required',
      'audience is required',
      'refreshTokenTtlSeconds (60)',
      'secret is 8 bytes',
      'placeholder',
    ]) {
      expect(message).toContain(part);
    }
    expect(message).not.toContain('changeme');
  });

  it('refuses alg "none" from forRootAsync too', async () => {
    const register = AuthModule.forRootAsync({
      useFactory: () => ({ ...options(), algorithm: 'none' as never }),
    });
    await expect(boot(register)).rejects.toThrow(/algorithm "none" is not allowed/);
  });
});
