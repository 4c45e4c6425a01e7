import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { AuthModuleOptions } from './auth-options.interface';
import { resolveAuthConfig } from './auth-options.validate';
import { AuthConfigError } from './errors/auth.errors';

const valid = (): AuthModuleOptions => ({
  secret: randomBytes(32),
  issuer: 'iss',
  audience: 'aud',
});

function problemsOf(options: Partial<AuthModuleOptions> & Record<string, unknown>): string[] {
  try {
    resolveAuthConfig({ ...valid(), ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(AuthConfigError);
    return [...(error as AuthConfigError).problems];
  }
  return [];
}

describe('resolveAuthConfig', () => {
  it('accepts a strong secret and applies the defaults', () => {
    const config = resolveAuthConfig(valid());
    expect(config.keys.signing?.alg).toBe('HS256');
    expect(config.accessTokenTtlSeconds).toBe(900);
    expect(config.refreshTokenTtlSeconds).toBe(604800);
    expect(config.clockToleranceSeconds).toBe(30);
    expect(config.keys.signing?.kid).toMatch(/^[\w-]{16}$/);
  });

  it('resolves once into a frozen object, its parts frozen too', () => {
    const config = resolveAuthConfig({ ...valid(), sliding: { renewWithinSeconds: 60 } });
    for (const part of [
      config,
      config.revocation,
      config.rateLimit,
      config.cookies,
      config.sliding,
    ])
      expect(Object.isFrozen(part)).toBe(true);
    expect(config.verifiedTokenCacheSize).toBe(10_000);
    expect(config.connections.recheckSeconds).toBe(5);
  });

  it('refuses missing options', () => {
    expect(() => resolveAuthConfig(undefined)).toThrow(AuthConfigError);
  });

  it.each(['none', 'None', 'HS1', 'RS1', 'EdDSA', ''])('refuses algorithm %j', (algorithm) => {
    expect(problemsOf({ algorithm: algorithm as never })).toEqual([
      expect.stringContaining('is not allowed'),
    ]);
  });

  it.each([
    ['a 31-byte secret for HS256', { secret: randomBytes(31) }, 'needs at least 32'],
    [
      'a 32-byte secret for HS512',
      { algorithm: 'HS512', secret: randomBytes(32) },
      'needs at least 64',
    ],
    ['no secret', { secret: undefined }, 'secret (or secretFile) is required'],
    ['an empty secret', { secret: '' }, 'secret (or secretFile) is required'],
  ] as const)('refuses %s', (_name, options, expected) => {
    expect(problemsOf(options)).toEqual([expect.stringContaining(expected)]);
  });

  it.each([
    'secret',
    'your-secret-key',
    'changeme',
    'your-256-bit-secret',
    'please-change-me-before-going-to-production-ok',
    'your_super_long_jwt_secret_key_for_production_use',
    'a'.repeat(64),
  ])('refuses the placeholder secret %j, without repeating it', (secret) => {
    const problems = problemsOf({ secret });
    expect(problems.some((p) => /placeholder|distinct|public lists/.test(p))).toBe(true);
    if (secret.length > 8) expect(problems.join(' ')).not.toContain(secret);
  });

  it.each([
    [{ refreshTokenTtlSeconds: 600, accessTokenTtlSeconds: 900 }, 'must not be shorter than'],
    [{ accessTokenTtlSeconds: 0 }, 'accessTokenTtlSeconds must be'],
    [{ accessTokenTtlSeconds: 1.5 }, 'accessTokenTtlSeconds must be'],
    [{ refreshTokenTtlSeconds: -1 }, 'refreshTokenTtlSeconds must be'],
    [{ clockToleranceSeconds: -1 }, 'clockToleranceSeconds must be'],
    [{ clockToleranceSeconds: 3600 }, 'at most 300'],
    [{ refreshGraceSeconds: 301 }, 'refreshGraceSeconds (301) must be at most 300'],
    [{ refreshGraceSeconds: -1 }, 'refreshGraceSeconds must be'],
    [{ issuer: '' }, 'issuer is required'],
    [{ issuer: undefined }, 'issuer is required'],
    [{ audience: '  ' }, 'audience is required'],
    [{ findUser: 'users' }, 'findUser must be a function'],
    [{ keyId: '../../etc/passwd' }, 'keyId must be'],
    [{ tokenLocation: ['cookies'] }, 'cookies.csrfSecret is required'],
    [{ rateLimit: { login: { limit: 0, ttlSeconds: 60 } } }, 'rateLimit.login needs'],
    [{ rateLimit: { default: { limit: 5, ttlSeconds: 0.5 } } }, 'rateLimit.default needs'],
    [{ rateLimit: { lockout: { maxFailures: -1 } } }, 'rateLimit.lockout.maxFailures'],
    [{ rateLimit: { lockout: { lockSeconds: 600, maxLockSeconds: 60 } } }, 'maxLockSeconds'],
    [{ trustProxy: -1 }, 'trustProxy must be'],
    [{ trustProxy: 'yes' }, 'trustProxy must be'],
    [{ auditSink: {} }, 'auditSink must have'],
    [{ inspectRequest: 'check' }, 'inspectRequest must be a function'],
    [{ cookies: { csrfSecret: 'short' } }, 'csrfSecret is shorter than 32 bytes'],
    [{ cookies: { csrfSecret: 'abcdefghijklmnopqrstuvwxyz123456' } }, 'csrfSecret is guessable'],
    [{ cookies: { allowedOrigins: ['https://a.example/path'] } }, 'cookies.allowedOrigins must'],
    [{ connections: { recheckSeconds: 0 } }, 'connections.recheckSeconds must'],
    [{ revocation: { redis: 'localhost:6379' } }, 'it was given a string that is not one'],
    [
      { rateLimit: { redis: 'localhost:6379' } },
      'rateLimit.redis must be a redis:// or rediss:// URL',
    ],
    [{ rateLimit: { timeoutMs: 0 } }, 'rateLimit.timeoutMs must be whole milliseconds'],
    [{ revocation: { redis: { stores: [] } } }, 'a cache-manager cache goes in revocation.cache'],
    [{ revocation: { redis: new Map() } }, 'ioredis client or Cluster; it was given a Map'],
    [{ revocation: { redis: { nodes: [] } } }, 'revocation.redis.nodes must list { host, port }'],
    [{ revocation: { keyPrefix: 'tg:{x}:' } }, 'revocation.keyPrefix must not contain { or }'],
    [{ revocation: { waitForReplicas: 1 } }, 'revocation.waitForReplicas needs revocation.redis'],
    [
      { revocation: { redis: 'redis://127.0.0.1', waitForReplicas: -1 } },
      'revocation.waitForReplicas must be a whole number from 0 to 10',
    ],
    [{ revocation: { store: { isRevoked: () => false } } }, 'revocation.store must implement'],
    [
      { revocation: { cache: { get: () => undefined } } },
      'revocation.cache must be a cache-manager',
    ],
  ])('refuses %j', (options, expected) => {
    expect(problemsOf(options as Partial<AuthModuleOptions>)).toEqual([
      expect.stringContaining(expected),
    ]);
  });

  it('keeps the CSRF key apart from the signing key', () => {
    const csrfSecret = randomBytes(32);
    const config = resolveAuthConfig({
      ...valid(),
      tokenLocation: ['cookies'],
      cookies: { csrfSecret },
    });
    expect(config.cookies.csrfKey.equals(csrfSecret)).toBe(true);
  });

  it('refuses an unknown (misspelt) option instead of ignoring it', () => {
    expect(problemsOf({ accessTokenTTL: 5 })).toEqual([
      'unknown option accessTokenTTL: did you mean accessTokenTtlSeconds?',
    ]);
    expect(problemsOf({ audiance: 'x', secert: 'y', colour: 'z' })).toEqual([
      'unknown option audiance: did you mean audience?',
      'unknown option secert: did you mean secret?',
      'unknown option colour',
    ]);
  });

  it('fails in one concise block: the list once, no stack, named option paths', () => {
    const error = (() => {
      try {
        resolveAuthConfig({ algorithm: 'RS256', issuer: 'i', audience: 'a' });
      } catch (thrown) {
        return thrown as AuthConfigError;
      }
      throw new Error('accepted');
    })();
    expect(error.stack).toBe(`AuthConfigError: ${error.message}`);
    expect(Object.keys(error)).not.toContain('problems');
    expect(error.problems).toHaveLength(1);
    expect(error.message).toContain(
      'privateKey (or privateKeyFile) is required to sign with RS256',
    );
  });

  it('lists every problem in one error', () => {
    const problems = problemsOf({
      algorithm: 'HS256',
      secret: 'short',
      issuer: '',
      audience: '',
      refreshTokenTtlSeconds: 1,
    });
    expect(problems).toHaveLength(5);
  });

  describe('asymmetric keys', () => {
    const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;
    const ec = (curve: string) => generateKeyPairSync('ec', { namedCurve: curve }).privateKey;

    it('accepts RS256 with a 2048-bit key, as PEM or KeyObject, and derives the public key', () => {
      const key = rsa(2048);
      for (const privateKey of [key, key.export({ type: 'pkcs8', format: 'pem' })]) {
        const config = resolveAuthConfig({
          ...valid(),
          secret: undefined,
          algorithm: 'RS256',
          privateKey,
        });
        expect(config.keys.signing?.verificationKey.type).toBe('public');
      }
    });

    it.each([
      ['RS256 with a 1024-bit key', 'RS256', () => rsa(1024), 'at least 2048'],
      ['ES256 with a P-384 key', 'ES256', () => ec('secp384r1'), 'prime256v1'],
      ['RS256 with an EC key', 'RS256', () => ec('prime256v1'), 'needs an RSA key'],
      [
        'ES256 with a public key',
        'ES256',
        () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey,
        'not a readable private key',
      ],
      ['ES256 with garbage', 'ES256', () => 'not a pem', 'not a readable private key'],
    ] as [string, 'RS256' | 'ES256', () => KeyObject | string, string][])(
      'refuses %s',
      (_name, algorithm, key, expected) => {
        expect(problemsOf({ secret: undefined, algorithm, privateKey: key() })).toEqual([
          expect.stringContaining(expected),
        ]);
      },
    );

    it('refuses an HMAC secret with an asymmetric algorithm', () => {
      expect(problemsOf({ algorithm: 'RS256' })).toEqual(
        expect.arrayContaining([
          expect.stringContaining('not a secret'),
          expect.stringContaining('privateKey (or privateKeyFile) is required'),
        ]),
      );
    });
  });
});
