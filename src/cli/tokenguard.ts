#!/usr/bin/env node
/**
 * `npx tokenguard`: keys for AuthModule, made with Node's crypto alone. The `kid`s and JWKs are
 * the module's own (the same key ring computes them), so what this prints is what the server
 * will publish at its JWKS endpoint.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  SUPPORTED_ALGORITHMS,
  type JwtAlgorithm,
  type KeyOptions,
} from '../auth-options.interface';
import { buildKeyRing, EC_CURVES, type PublicJwk } from '../keys/key-ring';

const USAGE = `Usage:
  tokenguard secret                            a strong HMAC secret (for secret, HS256/384/512)
  tokenguard keygen <ALG> [--out <file>]       a private key file (mode 600), and its public JWK
  tokenguard jwks <key file>[:<ALG>] ...       the JWKS of these keys (private or public PEM)

ALG: ${SUPPORTED_ALGORITHMS.filter((alg) => !alg.startsWith('HS')).join(', ')}`;

/** Bits of an RSA modulus: above the 2048 the module requires, as NIST advises past 2030. */
const RSA_BITS = 3072;
/** The ECDSA algorithm of a curve: the module's own table, read the other way. */
const ALG_OF_CURVE = Object.fromEntries(
  Object.entries(EC_CURVES).map(([alg, curve]) => [curve, alg as JwtAlgorithm]),
);

/** Runs one command; returns the exit code (0 done, 1 refused, 2 misused). */
export function run(args: readonly string[], print = console.log, warn = console.error): number {
  const [command, ...rest] = args;
  try {
    if (command === 'secret' && rest.length === 0) {
      print(randomBytes(48).toString('base64url'));
      return 0;
    }
    if (command === 'keygen' && (rest.length === 1 || (rest.length === 3 && rest[1] === '--out'))) {
      const { jwk, file } = keygen(rest[0] ?? '', rest[2]);
      warn(
        `wrote ${file}: the private key, keep it secret (keys: [{ alg: '${jwk.alg}', privateKeyFile: '${file}' }])`,
      );
      print(JSON.stringify(jwk, null, 2));
      return 0;
    }
    if (command === 'jwks' && rest.length > 0) {
      print(JSON.stringify(jwks(rest), null, 2));
      return 0;
    }
  } catch (error) {
    warn(`tokenguard ${command}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  warn(USAGE);
  return 2;
}

/** Writes a new private key (PKCS #8 PEM) and returns its public JWK. */
function keygen(alg: string, out: string | undefined): { jwk: PublicJwk; file: string } {
  if (alg.startsWith('HS'))
    throw new Error(`${alg} signs with a shared secret: run "tokenguard secret"`);
  const chosen = supported(alg);
  const curve = EC_CURVES[chosen];
  const { privateKey } = curve
    ? generateKeyPairSync('ec', { namedCurve: curve })
    : generateKeyPairSync('rsa', { modulusLength: RSA_BITS });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const [jwk] = ring([{ alg: chosen, privateKey: pem }]).keys;
  if (!jwk) throw new Error('no public key');
  const file = out ?? `${jwk.kid}.pem`;
  // 'wx': never overwrite a key someone may still sign with.
  writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  return { jwk, file };
}

/** The JWKS of key files, each `path` or `path:ALG` (RSA keys need ALG for PS*; RS256 otherwise). */
function jwks(specs: readonly string[]): { keys: PublicJwk[] } {
  const keys = specs.map((spec): KeyOptions => {
    const match = /^(.*?)(?::([A-Z]{2}\d{3}))?$/.exec(spec);
    const file = match?.[1] ?? spec;
    const pem = readFileSync(file, 'utf8');
    const alg = match?.[2] ? supported(match[2]) : algorithmOf(pem, file);
    // The public half alone: a JWKS never needs, and the ring refuses, a private key to verify.
    return { alg, publicKey: createPublicKey(pem).export({ format: 'pem', type: 'spki' }) };
  });
  return ring(keys, true);
}

function algorithmOf(pem: string, file: string): JwtAlgorithm {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'rsa-pss') return 'PS256';
  const alg = ALG_OF_CURVE[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (!alg) throw new Error(`${file}: not an RSA or P-256/384/521 key`);
  return alg;
}

function supported(alg: string): JwtAlgorithm {
  if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new Error(`unknown algorithm "${alg}": use one of ${SUPPORTED_ALGORITHMS.join(', ')}`);
  }
  return alg as JwtAlgorithm;
}

/** The module's key ring over these keys, for its kids and JWKs (and its checks of each key). */
function ring(keys: KeyOptions[], verifyOnly = false): { keys: PublicJwk[] } {
  const problems: string[] = [];
  const built = buildKeyRing({ keys, verifyOnly }, problems);
  if (!built) throw new Error(problems.join('; '));
  return built.jwks();
}

if (require.main === module) process.exitCode = run(process.argv.slice(2));
