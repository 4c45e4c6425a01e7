import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { AuthModule } from '../auth.module';
import { Clock } from '../common/clock';
import { AuthService } from './auth.service';
import { TokenVerifier } from '../jwt/token.verifier';

class FixedClock extends Clock {
  now = () => 1_800_000_000_000;
}

const segment = (token: string, index: number) =>
  JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;

describe('AuthService token claims', () => {
  let auth: AuthService;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          secret: randomBytes(32),
          issuer: 'https://issuer.test',
          audience: 'api.test',
          accessTokenTtlSeconds: 600,
          refreshTokenTtlSeconds: 3600,
          clock: new FixedClock(),
          validateCredentials: (username, password) =>
            username === 'ann' && password === 'pw'
              ? { sub: 'u-1', roles: ['editor'], passwordHash: 'x', email: 'ann@test' }
              : null,
          // A hook trying to take over reserved claims: it must not win.
          additionalClaims: (user) => ({
            email: user.email,
            sub: 'admin',
            roles: ['admin'],
            exp: 9e9,
            token_use: 'refresh',
          }),
        }),
      ],
    }).compile();
    auth = moduleRef.get(AuthService);
    verifier = moduleRef.get(TokenVerifier);
  });

  it('puts every required claim in the access token, and nothing else but custom ones', async () => {
    const { access_token, expires_in } = await auth.login('ann', 'pw');
    const header = segment(access_token, 0);
    const claims = segment(access_token, 1);
    expect(header).toEqual({
      alg: 'HS256',
      typ: 'at+jwt',
      kid: expect.stringMatching(/^[\w-]{16}$/),
    });
    expect(claims).toEqual({
      iss: 'https://issuer.test',
      aud: 'api.test',
      sub: 'u-1',
      iat: 1_800_000_000,
      iat_ms: 1_800_000_000_000,
      nbf: 1_800_000_000,
      exp: 1_800_000_600,
      jti: expect.any(String),
      sid: expect.any(String),
      token_use: 'access',
      roles: ['editor'],
      auth_time: 1_800_000_000,
      email: 'ann@test',
    });
    expect(expires_in).toBe(600);
    expect(Buffer.from(claims.jti as string, 'base64url')).toHaveLength(16);
    expect(Buffer.from(claims.sid as string, 'base64url')).toHaveLength(16);
  });

  it('gives the refresh token its own type and jti, the same session, and no custom claims', async () => {
    const { access_token, refresh_token } = await auth.login('ann', 'pw');
    const access = segment(access_token, 1);
    const refresh = segment(refresh_token, 1);
    expect(segment(refresh_token, 0).typ).toBe('rt+jwt');
    expect(refresh).toMatchObject({
      token_use: 'refresh',
      sid: access.sid,
      sub: 'u-1',
      exp: 1_800_003_600,
    });
    expect(refresh.jti).not.toBe(access.jti);
    expect(refresh).not.toHaveProperty('email');
  });

  it('never puts a password or its hash in a token', async () => {
    const { access_token, refresh_token } = await auth.login('ann', 'pw');
    for (const token of [access_token, refresh_token]) {
      const text = JSON.stringify(segment(token, 1));
      expect(text).not.toMatch(/password|"pw"/i);
    }
  });

  it('opens a new session with fresh ids at every login', async () => {
    const a = segment((await auth.login('ann', 'pw')).access_token, 1);
    const b = segment((await auth.login('ann', 'pw')).access_token, 1);
    expect(a.sid).not.toBe(b.sid);
    expect(a.jti).not.toBe(b.jti);
  });

  it('verifies its own tokens by type', async () => {
    const { access_token, refresh_token } = await auth.login('ann', 'pw');
    expect((await verifier.verify(refresh_token, 'refresh')).sub).toBe('u-1');
    await expect(verifier.verify(access_token, 'refresh')).rejects.toMatchObject({
      code: 'AUTH_TOKEN_WRONG_TYPE',
    });
  });

  it('issues whole milliseconds (iat_ms) on a clock that gives fractions, and its tokens verify', async () => {
    const fractional = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          secret: randomBytes(32),
          issuer: 'https://issuer.test',
          audience: 'api.test',
          clock: { now: () => 1_800_000_000_123.5 },
          validateCredentials: () => ({ sub: 'u-2', roles: [] }),
        }),
      ],
    }).compile();
    const { access_token } = await fractional.get(AuthService).login('ann', 'pw');
    expect(segment(access_token, 1)).toMatchObject({
      iat: 1_800_000_000,
      iat_ms: 1_800_000_000_123,
    });
    await expect(
      fractional.get(TokenVerifier).verify(access_token, 'access'),
    ).resolves.toMatchObject({
      sub: 'u-2',
    });
  });

  it('refuses bad credentials with one coded error', async () => {
    await expect(auth.login('ann', 'wrong')).rejects.toMatchObject({
      code: 'AUTH_INVALID_CREDENTIALS',
    });
    await expect(auth.login('nobody', 'pw')).rejects.toMatchObject({
      code: 'AUTH_INVALID_CREDENTIALS',
    });
  });
});
