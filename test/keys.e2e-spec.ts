import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import request from 'supertest';
import {
  AuthModule,
  AuthService,
  SUPPORTED_ALGORITHMS,
  type AuthModuleOptions,
  type JwtAlgorithm,
  type KeyOptions,
} from '../src/index';
import { bootApp } from './support/auth-app';
import { decode, forgeHmac } from './support/forge';

const ISSUER = 'keys-test';
const AUDIENCE = 'keys-test-api';
const ASYMMETRIC: JwtAlgorithm[] = SUPPORTED_ALGORITHMS.filter((alg) => !alg.startsWith('HS'));
const CURVES: Record<string, string> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

const pairFor = (alg: JwtAlgorithm) =>
  alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: CURVES[alg] ?? '' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });

const base = (keys: KeyOptions[]): AuthModuleOptions => ({
  keys,
  issuer: ISSUER,
  audience: AUDIENCE,
  validateCredentials: (username) => ({ sub: username, roles: ['user'] }),
});

async function start(options: AuthModuleOptions, jwksPath?: string | false) {
  const app = await bootApp(
    AuthModule.forRoot({ ...options, ...(jwksPath !== undefined && { jwksPath }) }),
  );
  const http = request(app.getHttpServer());
  return {
    app,
    http,
    login: async (user = 'ann') => (await app.get(AuthService).login(user, 'x')).access_token,
    me: (token: string) => http.get('/me').set('Authorization', `Bearer ${token}`),
  };
}

/** What jose, an independent implementation, would send: the right claims, signed by `key`. */
function joseToken(alg: string, key: KeyObject | Uint8Array, kid: string) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: 'jose-session', token_use: 'access', roles: ['user'] })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('jose-user')
    .setJti(randomBytes(16).toString('base64url'))
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 300)
    .sign(key);
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same bytes under another spelling: the unused low bits of a segment's last character set
 * (4 of them when its length is 2 mod 4, 2 when 3 mod 4). Undefined when it has none.
 */
function withSpareBits(segment: string): string | undefined {
  const spare = { 2: 0b1111, 3: 0b11 }[segment.length % 4];
  if (spare === undefined) return undefined;
  const last = BASE64URL.indexOf(segment.at(-1) ?? '');
  return segment.slice(0, -1) + BASE64URL[last | spare];
}

/** Every variant of `token` with one segment respelled, and which segment it was. */
function respelled(token: string): [string, string][] {
  const segments = token.split('.');
  return segments.flatMap((segment, i) => {
    const other = withSpareBits(segment);
    if (other === undefined) return [];
    const copy = [...segments];
    copy[i] = other;
    expect(Buffer.from(other, 'base64url')).toEqual(Buffer.from(segment, 'base64url'));
    return [[['header', 'payload', 'signature'][i] ?? '', copy.join('.')]];
  });
}

describe.each(['HS256', 'RS256', 'ES256', 'PS384', 'ES512'] as const)(
  '%s: one token, one string',
  (alg) => {
    let t: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      const key = alg.startsWith('HS')
        ? { secret: randomBytes(32) }
        : { privateKey: pairFor(alg).privateKey };
      t = await start(base([{ alg, ...key }]));
    });
    afterAll(() => t.app.close());

    it('refuses a segment whose spare bits are set (the same bytes, another string) as malformed, on the guard and on refresh', async () => {
      // Subjects of 1 to 4 characters: payloads of four consecutive lengths, at least one of
      // which leaves spare bits; the header's and the signature's lengths are fixed per algorithm.
      const seen = new Set<string>();
      let signatureLength = 0;
      for (const user of ['a', 'ab', 'abc', 'abcd']) {
        const { access_token, refresh_token } = await t.app.get(AuthService).login(user, 'x');
        signatureLength = access_token.split('.')[2]?.length ?? 0;
        await t.me(access_token).expect(200);
        for (const [segment, token] of respelled(access_token)) {
          seen.add(segment);
          const res = await t.me(token).expect(401);
          expect(res.body.code).toBe('AUTH_TOKEN_MALFORMED');
        }
        for (const [, token] of respelled(refresh_token)) {
          await expect(t.app.get(AuthService).refresh(token)).rejects.toMatchObject({
            code: 'AUTH_TOKEN_MALFORMED',
          });
        }
      }
      expect(seen.has('payload')).toBe(true);
      expect(seen.has('signature')).toBe(signatureLength % 4 !== 0);
    });
  },
);

describe.each(ASYMMETRIC)('%s end to end', (alg) => {
  const { privateKey, publicKey } = pairFor(alg);
  let t: Awaited<ReturnType<typeof start>>;
  let kid: string;
  beforeAll(async () => {
    t = await start(base([{ alg, privateKey }]));
    kid = decode(await t.login()).header.kid as string;
  });
  afterAll(() => t.app.close());

  it('signs with kid, and jose verifies the token against the JWKS endpoint', async () => {
    const token = await t.login();
    expect(decode(token).header).toEqual({ alg, typ: 'at+jwt', kid });
    await t.me(token).expect(200, 'ann');
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body as { keys: JWK[] };
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: [alg],
    });
    expect(payload.sub).toBe('ann');
  });

  it('accepts a token jose made with the ring key, and refuses it under an algorithm the key is not pinned to', async () => {
    await t.me(await joseToken(alg, privateKey, kid)).expect(200, 'jose-user');
    const other = alg.startsWith('ES')
      ? undefined
      : alg.startsWith('RS')
        ? `PS${alg.slice(2)}`
        : `RS${alg.slice(2)}`;
    if (other) {
      const res = await t.me(await joseToken(other, privateKey, kid)).expect(401);
      expect(res.body.code).toBe('AUTH_TOKEN_ALGORITHM_REFUSED');
    }
  });

  it('refuses a signature of the wrong length with 401 on the guard and on refresh, never 500', async () => {
    const { access_token, refresh_token } = await t.app.get(AuthService).login('ann', 'x');
    const wrongLength = (token: string) => {
      const [head, body, signature = ''] = token.split('.');
      // Short, truncated, one byte too long (a DER-encoded ECDSA signature is longer too).
      return ['AA', signature.slice(0, -4), `${signature}AAAA`].map((s) => `${head}.${body}.${s}`);
    };
    // A cut that leaves spare bits set is not even canonical base64url: malformed, checked first.
    const expected = (token: string) => {
      const signature = token.split('.')[2] ?? '';
      return Buffer.from(signature, 'base64url').toString('base64url') === signature
        ? 'AUTH_TOKEN_SIGNATURE_INVALID'
        : 'AUTH_TOKEN_MALFORMED';
    };
    for (const token of wrongLength(access_token)) {
      const res = await t.me(token).expect(401);
      expect(res.body.code).toBe(expected(token));
    }
    for (const token of wrongLength(refresh_token)) {
      await expect(t.app.get(AuthService).refresh(token)).rejects.toMatchObject({
        code: expected(token),
      });
    }
  });

  it('answers randomly edited tokens with a coded 401, never a 500 (fast-check, 100 runs)', async () => {
    const valid = await t.login();
    const edit = fc.record({
      at: fc.nat(),
      char: fc.constantFrom(...'AZaz09-_.'),
      insert: fc.boolean(),
    });
    const edited = fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) =>
      edits.reduce((token, { at, char, insert }) => {
        const i = at % (token.length + 1);
        return token.slice(0, i) + char + token.slice(insert ? i : i + 1);
      }, valid),
    );
    await fc.assert(
      fc.asyncProperty(edited, async (token) => {
        const res = await t.me(token);
        if (token === valid) return void expect(res.status).toBe(200);
        expect(res.status).toBe(401);
        expect(res.body.code).toMatch(/^AUTH_TOKEN_/);
      }),
      { numRuns: 100 },
    );
  });

  it.each(['pem', 'jwk'])(
    'refuses HS256 signed with the public key as %s (key confusion)',
    async (form) => {
      const { payload } = decode(await t.login());
      const secret =
        form === 'pem'
          ? (publicKey.export({ type: 'spki', format: 'pem' }) as string)
          : JSON.stringify(publicKey.export({ format: 'jwk' }));
      for (const header of [
        { alg: 'HS256', typ: 'at+jwt', kid },
        { alg: 'HS256', typ: 'at+jwt' },
      ]) {
        const res = await t.me(forgeHmac(header, payload, secret)).expect(401);
        expect(res.body.code).toBe('AUTH_TOKEN_ALGORITHM_REFUSED');
      }
    },
  );
});

describe('JWKS endpoint', () => {
  it('publishes only public parts of RSA and EC keys, with kid, alg, use and Cache-Control', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const t = await start(
      base([
        { alg: 'RS256', kid: 'rsa-1', privateKey: rsa.privateKey },
        { alg: 'ES256', kid: 'ec-1', publicKey: ec.publicKey.export({ format: 'jwk' }) },
        { alg: 'HS256', kid: 'hmac-1', secret: randomBytes(32) },
      ]),
    );
    try {
      const res = await t.http.get('/.well-known/jwks.json').expect(200);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      expect(res.body).toEqual({
        keys: [
          { kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: 'rsa-1', alg: 'RS256', use: 'sig' },
          {
            kty: 'EC',
            crv: 'P-256',
            x: expect.any(String),
            y: expect.any(String),
            kid: 'ec-1',
            alg: 'ES256',
            use: 'sig',
          },
        ],
      });
      expect(res.text).not.toMatch(/"(d|p|q|dp|dq|qi|k)"/);
      await importJWK(res.body.keys[0] as JWK, 'RS256');
    } finally {
      await t.app.close();
    }
  });

  it('is empty with only HMAC keys, can move, and can be turned off', async () => {
    const hmac = base([{ alg: 'HS256', secret: randomBytes(32) }]);
    const t = await start(hmac);
    const moved = await start(hmac, '/keys');
    const off = await start(hmac, false);
    try {
      await t.http.get('/.well-known/jwks.json').expect(200, { keys: [] });
      await moved.http.get('/keys').expect(200, { keys: [] });
      await off.http.get('/.well-known/jwks.json').expect(404);
    } finally {
      await Promise.all([t.app.close(), moved.app.close(), off.app.close()]);
    }
  });
});

describe('rotation without downtime', () => {
  const first = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const second = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const apps: INestApplication[] = [];
  afterAll(() => Promise.all(apps.map((app) => app.close())));

  it('keeps old-key tokens valid after the active key changes, and refuses them once the key is removed', async () => {
    const before = await start(base([{ alg: 'ES256', kid: 'k1', privateKey: first.privateKey }]));
    const rotated = await start(
      base([
        { alg: 'ES256', kid: 'k2', privateKey: second.privateKey },
        { alg: 'ES256', kid: 'k1', publicKey: first.publicKey },
      ]),
    );
    const after = await start(base([{ alg: 'ES256', kid: 'k2', privateKey: second.privateKey }]));
    apps.push(before.app, rotated.app, after.app);

    const oldToken = await before.login();
    await rotated.me(oldToken).expect(200);
    const newToken = await rotated.login();
    expect(decode(newToken).header.kid).toBe('k2');
    await before.me(newToken).expect(401);
    const jwks = (await rotated.http.get('/.well-known/jwks.json')).body as { keys: JWK[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(['k2', 'k1']);

    const res = await after.me(oldToken).expect(401);
    expect(res.body.code).toBe('AUTH_TOKEN_KEY_UNKNOWN');
    await after.me(newToken).expect(200);
  });

  it('looks kid up in the ring only: paths, queries and odd types are unknown keys, never errors', async () => {
    const secret = randomBytes(32);
    const t = await start(
      base([
        { alg: 'HS256', kid: 'a', secret },
        { alg: 'HS256', kid: 'b', secret: randomBytes(32) },
      ]),
    );
    apps.push(t.app);
    const { payload } = decode(await t.login());
    const junk: unknown[] = [
      '../../../../dev/null',
      '/etc/passwd',
      '..\\..\\windows',
      "a' OR '1'='1",
      'a/../b',
      '%2e%2e%2f',
      'file:///etc/passwd',
      'https://attacker.example/key',
      '__proto__',
      'constructor',
      '',
      'x'.repeat(5000),
      42,
      null,
      ['a'],
      { kid: 'a' },
      undefined,
    ];
    for (const kid of junk) {
      const header = { alg: 'HS256', typ: 'at+jwt', ...(kid !== undefined && { kid }) };
      const res = await t.me(forgeHmac(header, payload, secret));
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('AUTH_TOKEN_KEY_UNKNOWN');
    }
    await t.me(forgeHmac({ alg: 'HS256', typ: 'at+jwt', kid: 'a' }, payload, secret)).expect(200);
  });
});
