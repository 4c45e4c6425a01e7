import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthModuleOptions, KeyOptions } from '../auth-options.interface';
import { buildKeyRing } from './key-ring';

const ec = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const dir = mkdtempSync(join(tmpdir(), 'tokenguard-keys-'));

function build(keys: KeyOptions[], extra: Partial<AuthModuleOptions> = {}) {
  const problems: string[] = [];
  const ring = buildKeyRing({ issuer: 'i', audience: 'a', keys, ...extra }, problems);
  return { ring, problems };
}

describe('buildKeyRing', () => {
  it('signs with the first key and verifies with all of them', () => {
    const active = ec();
    const retired = ec();
    const { ring, problems } = build([
      { alg: 'ES256', kid: 'new', privateKey: active.privateKey },
      { alg: 'ES256', kid: 'old', publicKey: retired.publicKey },
      { alg: 'HS512', kid: 'legacy', secret: randomBytes(64) },
    ]);
    expect(problems).toEqual([]);
    expect(ring?.signing?.kid).toBe('new');
    expect(ring?.algorithms).toEqual(['ES256', 'HS512']);
    expect(ring?.resolve({ alg: 'ES256', kid: 'old' }).kid).toBe('old');
    expect(() => ring?.resolve({ alg: 'HS512', kid: 'old' })).toThrow(
      expect.objectContaining({ code: 'AUTH_TOKEN_ALGORITHM_REFUSED' }),
    );
    expect(() => ring?.resolve({ alg: 'ES256' })).toThrow(
      expect.objectContaining({ code: 'AUTH_TOKEN_KEY_UNKNOWN' }),
    );
  });

  it('takes random secret bytes as bytes, even when they happen to start with "{" (1 in 256)', () => {
    const secret = Buffer.concat([Buffer.from(' {'), Buffer.from([0xff, 0xfe]), randomBytes(32)]);
    const file = join(dir, 'binary.secret');
    writeFileSync(file, secret);
    for (const key of [{ secret }, { secretFile: file }]) {
      const { ring, problems } = build([{ alg: 'HS256', ...key }]);
      expect(problems).toEqual([]);
      expect(ring?.signing?.signingKey?.export().equals(secret)).toBe(true);
    }
  });

  it('reads PEM and JWK, by value and from files', () => {
    const { privateKey, publicKey } = ec();
    const pemFile = join(dir, 'private.pem');
    const jwkFile = join(dir, 'public.jwk.json');
    writeFileSync(pemFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(jwkFile, JSON.stringify(publicKey.export({ format: 'jwk' })));
    const other = ec().publicKey;
    const { ring, problems } = build([
      { alg: 'ES256', kid: 'a', privateKeyFile: pemFile },
      { alg: 'ES256', kid: 'b', publicKeyFile: jwkFile },
      { alg: 'ES256', kid: 'c', publicKey: other.export({ format: 'jwk' }) },
      {
        alg: 'ES256',
        kid: 'd',
        publicKey: JSON.stringify(ec().publicKey.export({ format: 'jwk' })),
      },
      { alg: 'HS256', kid: 'e', secret: { kty: 'oct', k: randomBytes(32).toString('base64url') } },
    ]);
    expect(problems).toEqual([]);
    expect(ring?.keys.map((k) => k.kid)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it.each([
    [
      'duplicate kids',
      () => [
        { alg: 'HS256', kid: 'x', secret: randomBytes(32) },
        { alg: 'HS256', kid: 'x', secret: randomBytes(32) },
      ],
      'used by two keys',
    ],
    [
      'a private key for a key that only verifies',
      () => [
        { alg: 'ES256', privateKey: ec().privateKey },
        { alg: 'ES256', kid: 'old', privateKey: ec().privateKey },
      ],
      'only verifies',
    ],
    [
      'a private PEM given as a public key',
      () => [
        { alg: 'ES256', privateKey: ec().privateKey },
        {
          alg: 'ES256',
          kid: 'old',
          publicKey: ec().privateKey.export({ type: 'pkcs8', format: 'pem' }),
        },
      ],
      'only verifies',
    ],
    [
      'a private JWK given as a public key',
      () => [
        { alg: 'ES256', privateKey: ec().privateKey },
        { alg: 'ES256', kid: 'old', publicKey: ec().privateKey.export({ format: 'jwk' }) },
      ],
      'only verifies',
    ],
    [
      'an unreadable key file',
      () => [{ alg: 'ES256', privateKeyFile: join(dir, 'missing.pem') }],
      'cannot be read',
    ],
    [
      'broken JWK JSON',
      () => [{ alg: 'ES256', privateKey: '{"kty": "EC",' }],
      'not valid JWK JSON',
    ],
    [
      'an EC key on the wrong curve for a retired key',
      () => [
        { alg: 'ES256', privateKey: ec().privateKey },
        { alg: 'ES384', kid: 'old', publicKey: ec().publicKey },
      ],
      'secp384r1',
    ],
    [
      'a 1024-bit RSA retired key',
      () => [
        { alg: 'ES256', privateKey: ec().privateKey },
        {
          alg: 'RS256',
          kid: 'old',
          publicKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
        },
      ],
      'at least 2048',
    ],
    [
      'an RSA-PSS-only key (it has no JWK form to publish)',
      () => [
        {
          alg: 'PS256',
          privateKey: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey,
        },
      ],
      'not RSA-PSS-only',
    ],
    ['alg none in a ring', () => [{ alg: 'none' }], 'is not allowed'],
    ['an empty ring', () => [], 'at least one key'],
  ] as [string, () => KeyOptions[], string][])('refuses %s', (_name, keys, expected) => {
    const { ring, problems } = build(keys());
    expect(ring).toBeUndefined();
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  it('refuses mixing keys with the single-key options', () => {
    const { problems } = build([{ alg: 'HS256', secret: randomBytes(32) }], {
      secret: randomBytes(32),
    });
    expect(problems).toEqual(['set either keys or algorithm/secret/privateKey/keyId, not both']);
  });

  it('builds a verify-only ring of public keys, which signs nothing and refuses private keys', () => {
    const ok = build([{ alg: 'ES256', kid: 'a', publicKey: ec().publicKey }], { verifyOnly: true });
    expect(ok.problems).toEqual([]);
    expect(ok.ring?.signing).toBeUndefined();
    const bad = build([{ alg: 'ES256', kid: 'a', privateKey: ec().privateKey }], {
      verifyOnly: true,
    });
    expect(bad.problems).toEqual([expect.stringContaining('only verifies')]);
  });
});
