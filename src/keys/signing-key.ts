import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  KeyObject,
} from 'node:crypto';
import type { AuthModuleOptions, JwtAlgorithm } from '../auth-options.interface';

/** A key imported once at start-up: jsonwebtoken re-parses strings and PEMs on every call otherwise. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: JwtAlgorithm;
  readonly signingKey: KeyObject;
  readonly verificationKey: KeyObject;
}

/** Values seen in tutorials and .env examples; a secret equal to one of them is public. */
const PLACEHOLDER_SECRETS = new Set(
  [
    'secret',
    'secretkey',
    'mysecret',
    'supersecret',
    'yoursecretkey',
    'yoursecret',
    'jwtsecret',
    'yourjwtsecret',
    'your256bitsecret',
    'changeme',
    'changethis',
    'password',
    'default',
    'test',
    'example',
  ].map((s) => s.toLowerCase()),
);
/** Words of a human-made secret; a random one contains none of them by chance. */
const PLACEHOLDER_PATTERN =
  /change.?(me|this|it)|placeholder|replace.?(me|this)|your.{0,24}(secret|key)|(super|my|jwt).?secret|secret.?key|for.?production|example/i;

const HMAC_MIN_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };
const EC_CURVES: Record<string, string> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};
const MIN_RSA_BITS = 2048;

/** Imports the configured key for `alg`, pushing a readable line to `problems` for each defect. */
export function importSigningKey(
  options: Pick<AuthModuleOptions, 'secret' | 'privateKey' | 'keyId'>,
  alg: JwtAlgorithm,
  problems: string[],
): SigningKey | undefined {
  const before = problems.length;
  const keys = alg.startsWith('HS')
    ? importHmacSecret(options, alg, problems)
    : importPrivateKey(options, alg, problems);
  if (!keys || problems.length > before) return undefined;
  const kid = options.keyId ?? thumbprint(keys.verificationKey);
  if (!/^[\w.-]{1,128}$/.test(kid)) {
    problems.push('keyId must be 1-128 characters of letters, digits, "_", "-" or "."');
    return undefined;
  }
  return { kid, alg, ...keys };
}

function importHmacSecret(
  { secret, privateKey }: Pick<AuthModuleOptions, 'secret' | 'privateKey'>,
  alg: JwtAlgorithm,
  problems: string[],
): Pick<SigningKey, 'signingKey' | 'verificationKey'> | undefined {
  if (privateKey !== undefined)
    problems.push(`privateKey is not used with ${alg}; set secret instead`);
  if (secret === undefined || secret === '') {
    problems.push(`secret is required for ${alg}`);
    return undefined;
  }
  if (secret instanceof KeyObject && secret.type !== 'secret') {
    problems.push(`secret must be a symmetric key for ${alg}`);
    return undefined;
  }
  const key = secret instanceof KeyObject ? secret : createSecretKey(toBuffer(secret));
  const bytes = key.export();
  const minBytes = HMAC_MIN_BYTES[alg] ?? 32;
  if (bytes.length < minBytes) {
    problems.push(
      `secret is ${bytes.length} bytes; ${alg} needs at least ${minBytes} random bytes`,
    );
  }
  const text = bytes.toString('utf8');
  const normalized = text.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (PLACEHOLDER_SECRETS.has(normalized) || PLACEHOLDER_PATTERN.test(text)) {
    problems.push(
      'secret is a well-known placeholder; generate one with `openssl rand -base64 48`',
    );
  } else if (new Set(bytes).size < 8) {
    problems.push('secret repeats too few distinct bytes to be random');
  }
  return { signingKey: key, verificationKey: key };
}

function importPrivateKey(
  { secret, privateKey }: Pick<AuthModuleOptions, 'secret' | 'privateKey'>,
  alg: JwtAlgorithm,
  problems: string[],
): Pick<SigningKey, 'signingKey' | 'verificationKey'> | undefined {
  if (secret !== undefined) problems.push(`secret is not used with ${alg}; set privateKey instead`);
  if (privateKey === undefined || privateKey === '') {
    problems.push(`privateKey is required for ${alg}`);
    return undefined;
  }
  let key: KeyObject;
  try {
    key = privateKey instanceof KeyObject ? privateKey : createPrivateKey(toBuffer(privateKey));
  } catch {
    // The parser's message may quote the key material: never repeat it.
    problems.push('privateKey is not a readable PEM private key');
    return undefined;
  }
  if (key.type !== 'private') {
    problems.push(`privateKey must be a private key for ${alg}`);
    return undefined;
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (alg.startsWith('ES')) {
    if (key.asymmetricKeyType !== 'ec' || details.namedCurve !== EC_CURVES[alg]) {
      problems.push(`privateKey must be an EC key on ${EC_CURVES[alg]} for ${alg}`);
    }
  } else if (
    key.asymmetricKeyType !== 'rsa' &&
    !(alg.startsWith('PS') && key.asymmetricKeyType === 'rsa-pss')
  ) {
    problems.push(`privateKey must be an RSA key for ${alg}`);
  } else if ((details.modulusLength ?? 0) < MIN_RSA_BITS) {
    problems.push(
      `privateKey has ${details.modulusLength} bits; RSA keys need at least ${MIN_RSA_BITS}`,
    );
  }
  return { signingKey: key, verificationKey: createPublicKey(key) };
}

const toBuffer = (value: string | Buffer): Buffer =>
  typeof value === 'string' ? Buffer.from(value, 'utf8') : value;

/** RFC 7638 thumbprint, truncated: identifies the key without revealing it. */
function thumbprint(key: KeyObject): string {
  const jwk =
    key.type === 'secret'
      ? { k: key.export().toString('base64url'), kty: 'oct' }
      : key.export({ format: 'jwk' });
  const members: Record<string, string[]> = {
    oct: ['k', 'kty'],
    RSA: ['e', 'kty', 'n'],
    EC: ['crv', 'kty', 'x', 'y'],
  };
  const canonical = JSON.stringify(
    Object.fromEntries(
      (members[String(jwk.kty)] ?? []).map((name) => [
        name,
        (jwk as Record<string, unknown>)[name],
      ]),
    ),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}
