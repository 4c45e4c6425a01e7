import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  KeyObject,
  type JsonWebKey,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  SUPPORTED_ALGORITHMS,
  type AuthModuleOptions,
  type JwtAlgorithm,
  type KeyMaterial,
  type KeyOptions,
} from '../auth-options.interface';
import { InvalidTokenError } from '../errors/auth.errors';
import { GENERATE_SECRET, secretWeakness, utf8 } from './secret-strength';

/** A key imported once at start-up: jsonwebtoken re-parses strings and PEMs on every call otherwise. */
export interface RingKey {
  readonly kid: string;
  readonly alg: JwtAlgorithm;
  /** Only the active key can sign. */
  readonly signingKey?: KeyObject;
  readonly verificationKey: KeyObject;
}

/** A published key: public parts only, with `kid`, `alg` and `use`. */
export type PublicJwk = JsonWebKey & { kid: string; alg: JwtAlgorithm; use: 'sig' };

/**
 * The configured keys: one active key signs, every key verifies. A token's key is looked up by
 * `kid` in this ring only, and its algorithm must be the one that key is pinned to.
 */
export class KeyRing {
  private readonly byKid: ReadonlyMap<string, RingKey>;
  /** Every algorithm of the ring: jsonwebtoken's allow-list. */
  readonly algorithms: JwtAlgorithm[];

  constructor(
    readonly keys: readonly RingKey[],
    readonly signing: RingKey | undefined,
  ) {
    this.byKid = new Map(keys.map((key) => [key.kid, key]));
    this.algorithms = [...new Set(keys.map((key) => key.alg))];
  }

  /** The key of this `kid`, if the ring has one. */
  find(kid: unknown): RingKey | undefined {
    return typeof kid === 'string' ? this.byKid.get(kid) : undefined;
  }

  /** The key a token header names, or a coded refusal. Never reads anything outside the ring. */
  resolve(header: Record<string, unknown>): RingKey {
    const { alg, kid } = header;
    const refused = () =>
      new InvalidTokenError(
        'AUTH_TOKEN_ALGORITHM_REFUSED',
        'The token algorithm is not accepted for its key',
      );
    if (!this.algorithms.includes(alg as JwtAlgorithm)) throw refused();
    // A single-key ring may verify tokens without `kid`; a ring of several needs it to choose.
    const key =
      kid === undefined && this.keys.length === 1 ? this.keys[0] : this.byKid.get(kid as string);
    if (!key) {
      throw new InvalidTokenError(
        'AUTH_TOKEN_KEY_UNKNOWN',
        'The token names a key this server does not have',
      );
    }
    if (key.alg !== alg) throw refused();
    return key;
  }

  /** The JWKS document: public keys only; HMAC secrets are never published. */
  jwks(): { keys: PublicJwk[] } {
    return {
      keys: this.keys
        .filter((key) => key.verificationKey.type === 'public')
        .map((key) => ({
          ...key.verificationKey.export({ format: 'jwk' }),
          kid: key.kid,
          alg: key.alg,
          use: 'sig',
        })),
    };
  }
}

/** The single-key shorthand: instead of `keys`. */
const SHORTHAND_OPTIONS = ['algorithm', 'secret', 'privateKey', 'keyId'] as const;

const HMAC_MIN_BYTES: Partial<Record<JwtAlgorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };
/** The curve each ECDSA algorithm signs on (RFC 7518 section 3.4). */
export const EC_CURVES: Partial<Record<JwtAlgorithm, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};
const MIN_RSA_BITS = 2048;

/**
 * Builds the ring from `keys`, or from the single-key shorthand (`algorithm`, `secret`,
 * `privateKey`, `keyId`). Pushes one readable line per defect to `problems`; never repeats
 * key material in them.
 */
export function buildKeyRing(
  options: Pick<AuthModuleOptions, 'keys' | 'verifyOnly' | (typeof SHORTHAND_OPTIONS)[number]>,
  problems: string[],
): KeyRing | undefined {
  if (options.keys !== undefined && SHORTHAND_OPTIONS.some((name) => options[name] !== undefined)) {
    problems.push('set either keys or algorithm/secret/privateKey/keyId, not both');
    return undefined;
  }
  const entries: KeyOptions[] = options.keys ?? [
    {
      alg: options.algorithm ?? 'HS256',
      secret: options.secret,
      privateKey: options.privateKey,
      kid: options.keyId,
    },
  ];
  if (!Array.isArray(entries) || entries.length === 0) {
    problems.push('keys must list at least one key');
    return undefined;
  }
  const before = problems.length;
  const verifyOnly = options.verifyOnly === true;
  const keys = entries.map((entry, index) => {
    const name = options.keys ? `keys[${index}]` : '';
    return importKey(entry ?? ({} as KeyOptions), !verifyOnly && index === 0, name, problems);
  });
  const seen = new Set<string>();
  for (const key of keys) {
    if (!key) continue;
    if (seen.has(key.kid)) problems.push(`kid "${key.kid}" is used by two keys`);
    seen.add(key.kid);
  }
  if (problems.length > before) return undefined;
  const ring = keys as RingKey[];
  return new KeyRing(ring, verifyOnly ? undefined : ring[0]);
}

/** Shorthand options by the key field they stand for. */
const SHORTHAND: Partial<Record<keyof KeyOptions, string>> = { alg: 'algorithm', kid: 'keyId' };

/** The option path of a key's field, as the app wrote it: `keys[1].publicKey`, or `privateKey`. */
const at = (name: string, field: keyof KeyOptions): string =>
  name ? `${name}.${field}` : (SHORTHAND[field] ?? field);

/** `privateKey (or privateKeyFile)`: a key given by value or by file. */
const either = (name: string, field: 'secret' | 'privateKey' | 'publicKey'): string =>
  `${at(name, field)} (or ${at(name, `${field}File`)})`;

function importKey(
  entry: KeyOptions,
  signs: boolean,
  name: string,
  problems: string[],
): RingKey | undefined {
  const { alg } = entry;
  if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
    problems.push(
      `${at(name, 'alg')} "${String(alg)}" is not allowed; use one of ${SUPPORTED_ALGORITHMS.join(', ')}`,
    );
    return undefined;
  }
  const before = problems.length;
  const keys = alg.startsWith('HS')
    ? importSecret(entry, name, problems)
    : importAsymmetric(entry, signs, name, problems);
  if (!keys || problems.length > before) return undefined;
  const kid = entry.kid ?? thumbprint(keys.verificationKey);
  if (typeof kid !== 'string' || !/^[\w.-]{1,128}$/.test(kid)) {
    problems.push(
      `${at(name, 'kid')} must be 1-128 characters of letters, digits, "_", "-" or "."`,
    );
    return undefined;
  }
  return { kid, alg, ...keys };
}

function importSecret(
  entry: KeyOptions,
  name: string,
  problems: string[],
): Pick<RingKey, 'signingKey' | 'verificationKey'> | undefined {
  const { alg } = entry;
  if (entry.privateKey !== undefined || entry.publicKey !== undefined) {
    problems.push(
      `${at(name, 'privateKey')}: ${alg} signs with ${at(name, 'secret')}, not a private or public key`,
    );
  }
  const secret = material(entry.secret, entry.secretFile, at(name, 'secretFile'), problems);
  if (secret === undefined || secret === '') {
    problems.push(`${either(name, 'secret')} is required for ${alg}`);
    return undefined;
  }
  let key: KeyObject;
  if (secret instanceof KeyObject) {
    if (secret.type !== 'secret') {
      problems.push(`${at(name, 'secret')}: a symmetric key is required for ${alg}`);
      return undefined;
    }
    key = secret;
  } else if (isJwk(secret)) {
    key = createSecretKey(Buffer.from(String(secret.k ?? ''), 'base64url'));
  } else {
    key = createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  }
  const bytes = key.export();
  const minBytes = HMAC_MIN_BYTES[alg] ?? 32;
  if (bytes.length < minBytes) {
    problems.push(
      `${at(name, 'secret')} is ${bytes.length} bytes; ${alg} needs at least ${minBytes} random bytes`,
    );
  }
  const weakness = secretWeakness(bytes);
  if (weakness) problems.push(`${at(name, 'secret')} ${weakness}; ${GENERATE_SECRET}`);
  return { signingKey: key, verificationKey: key };
}

function importAsymmetric(
  entry: KeyOptions,
  signs: boolean,
  name: string,
  problems: string[],
): Pick<RingKey, 'signingKey' | 'verificationKey'> | undefined {
  const { alg } = entry;
  if (entry.secret !== undefined || entry.secretFile !== undefined) {
    problems.push(
      `${at(name, 'secret')}: ${alg} signs with ${at(name, 'privateKey')}, not a secret`,
    );
  }
  const privateInput = material(
    entry.privateKey,
    entry.privateKeyFile,
    at(name, 'privateKeyFile'),
    problems,
  );
  const publicInput = material(
    entry.publicKey,
    entry.publicKeyFile,
    at(name, 'publicKeyFile'),
    problems,
  );
  let privateKey: KeyObject | undefined;
  let publicKey: KeyObject | undefined;
  if (signs) {
    if (privateInput === undefined)
      problems.push(
        `${either(name, 'privateKey')} is required to sign with ${alg} (npx tokenguard keygen ${alg})`,
      );
    else privateKey = parseKey(privateInput, 'private', at(name, 'privateKey'), problems);
    publicKey = privateKey && createPublicKey(privateKey);
  } else if (privateInput !== undefined || (publicInput !== undefined && isPrivate(publicInput))) {
    // A key that only verifies has no business holding a private key.
    problems.push(
      `${at(name, 'privateKey')}: this key only verifies, so give ${at(name, 'publicKey')}, not the private key`,
    );
  } else if (publicInput === undefined) {
    problems.push(`${either(name, 'publicKey')} is required to verify ${alg}`);
  } else {
    publicKey = parseKey(publicInput, 'public', at(name, 'publicKey'), problems);
  }
  if (!publicKey) return undefined;
  const details = publicKey.asymmetricKeyDetails ?? {};
  if (alg.startsWith('ES')) {
    if (publicKey.asymmetricKeyType !== 'ec' || details.namedCurve !== EC_CURVES[alg]) {
      problems.push(`${name || 'the key'}: ${alg} needs an EC key on ${EC_CURVES[alg]}`);
    }
  } else if (publicKey.asymmetricKeyType !== 'rsa') {
    // PS* too: an RSA-PSS-only key (id-RSASSA-PSS) has no JWK form, so it could not be published.
    problems.push(
      `${name || 'the key'}: ${alg} needs an RSA key (rsaEncryption, not RSA-PSS-only)`,
    );
  } else if ((details.modulusLength ?? 0) < MIN_RSA_BITS) {
    problems.push(
      `${name || 'the key'}: the RSA key has ${details.modulusLength} bits; at least ${MIN_RSA_BITS} are needed`,
    );
  }
  return { signingKey: privateKey, verificationKey: publicKey };
}

/**
 * The value, else the file's content; JSON text (from a file or an environment variable) is
 * read as a JWK. Bytes that are not UTF-8 are never JSON: a random secret may start with "{". A file that cannot be read is a problem.
 */
function material(
  value: KeyMaterial | undefined,
  file: string | undefined,
  name: string,
  problems: string[],
): KeyMaterial | undefined {
  let input = value;
  if (input === undefined && file !== undefined) {
    try {
      input = readFileSync(file);
    } catch {
      problems.push(`${name} cannot be read`);
      return undefined;
    }
  }
  const text = typeof input === 'string' ? input : Buffer.isBuffer(input) ? utf8(input) : undefined;
  if (text?.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text) as JsonWebKey;
    } catch {
      problems.push(`${name.replace(/File$/, '')}: not valid JWK JSON`);
      return undefined;
    }
  }
  return input;
}

function parseKey(
  input: KeyMaterial,
  type: 'private' | 'public',
  name: string,
  problems: string[],
): KeyObject | undefined {
  try {
    if (input instanceof KeyObject) {
      if (input.type === type) return input;
    } else {
      const jwk = isJwk(input) ? input : undefined;
      const create = type === 'private' ? createPrivateKey : createPublicKey;
      return jwk ? create({ key: jwk, format: 'jwk' }) : create(input as string | Buffer);
    }
  } catch {
    // The parser's message may quote the key material: never repeat it.
  }
  problems.push(`${name}: not a readable ${type} key (PEM or JWK)`);
  return undefined;
}

function isPrivate(input: KeyMaterial): boolean {
  if (input instanceof KeyObject) return input.type === 'private';
  if (isJwk(input)) return 'd' in input;
  try {
    createPrivateKey(input);
    return true;
  } catch {
    return false;
  }
}

const isJwk = (input: KeyMaterial): input is JsonWebKey =>
  typeof input === 'object' &&
  input !== null &&
  !Buffer.isBuffer(input) &&
  !(input instanceof KeyObject);

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
      (members[String(jwk.kty)] ?? []).map((m) => [m, (jwk as Record<string, unknown>)[m]]),
    ),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}
