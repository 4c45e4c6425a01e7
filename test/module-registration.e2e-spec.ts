import {
  Controller,
  Get,
  Injectable,
  Module,
  UseGuards,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
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

async function boot(
  authModule: ReturnType<typeof AuthModule.forRoot>,
  controller: Type = GlobalController,
): Promise<INestApplication> {
  @Module({ imports: [authModule], controllers: [controller] })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  return app.init();
}

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
