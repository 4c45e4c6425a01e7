import {
  HttpStatus,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { KeyObject } from 'node:crypto';
import { verify as verifyJws, type GetPublicKeyOrSecret, type VerifyOptions } from 'jsonwebtoken';
import { ACCESS_TOKEN_TYP, MAX_TOKEN_LENGTH, REFRESH_TOKEN_TYP } from '../auth.constants';
import type { JwtAlgorithm } from '../auth-options.interface';
import { AuthConfig } from '../auth-options.validate';
import { AuthError, InvalidTokenError, isAuthError } from '../errors/auth.errors';
import type { RingKey } from '../keys/key-ring';
import { RemoteKeySet } from '../keys/remote-key-set';
import type { TokenClaims, TokenUse } from '../tokens/token-claims.interface';

const TYP_OF: Record<TokenUse, string> = { access: ACCESS_TOKEN_TYP, refresh: REFRESH_TOKEN_TYP };
/** The start of a JSON object: `{` after optional whitespace. */
const JSON_OBJECT_START = /^[ \t\r\n]*\{/;
const JWS_COMPACT = /^[\w-]+\.[\w-]+\.[\w-]*$/;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Spare bits in the last character, by segment length modulo 4 (-1: no such length). */
const SPARE_BITS = [0, -1, 4, 2];
/** Headers that would let a token choose its own key or semantics: never followed, so refused. */
const REFUSED_HEADERS = ['crit', 'b64', 'jku', 'x5u', 'jwk', 'x5c'];
/**
 * Base64url length of an ECDSA signature, which a JWS carries as fixed-size r || s (RFC 7518
 * section 3.4): jsonwebtoken throws a TypeError (a 500) on any other length instead of refusing.
 */
const ECDSA_SIGNATURE_LENGTH: Partial<Record<string, number>> = {
  ES256: 86,
  ES384: 128,
  ES512: 176,
};

export interface DecodedToken {
  header: Record<string, unknown>;
  payload: unknown;
}

/**
 * The key of a token, chosen from the header jsonwebtoken decoded (the token is decoded once, by
 * jsonwebtoken, which hands its header to this callback before checking the signature), and
 * the reason it was refused, if it was: jsonwebtoken keeps only the message of a callback's
 * error, and the reason's code is what the client gets.
 */
export interface KeyChoice {
  readonly key: GetPublicKeyOrSecret;
  readonly refusal: () => AuthError | undefined;
}

/**
 * Every check a token must pass, in the order it can be made: `checkFormat` on the string,
 * `keyChoice` on the header jsonwebtoken decodes (refused parameters, algorithm, key), the
 * signature (jsonwebtoken), then `checkClaims` on the payload (type, claims, time against the
 * injected clock). passport-jwt runs the middle two for access tokens; `verify` runs them all
 * for refresh tokens.
 */
@Injectable()
export class TokenVerifier implements OnModuleInit, OnModuleDestroy {
  /** jsonwebtoken options: the ring's algorithms (each key is pinned to one by `keyChoice`); time is checked by `checkClaims` against the Clock. */
  readonly jsonWebTokenOptions: VerifyOptions & { complete: true; algorithms: JwtAlgorithm[] };

  constructor(private readonly config: AuthConfig) {
    this.jsonWebTokenOptions = {
      algorithms: config.remoteKeys ? [...RemoteKeySet.ALGORITHMS] : [...config.keys.algorithms],
      complete: true,
      ignoreExpiration: true,
      ignoreNotBefore: true,
    };
  }

  /** What can be checked before anything is decoded: the size, the compact form, one spelling per token. */
  checkFormat(token: string): void {
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidTokenError(
        'AUTH_TOKEN_TOO_LARGE',
        `The token exceeds ${MAX_TOKEN_LENGTH} characters`,
      );
    }
    const segments = token.split('.');
    if (!JWS_COMPACT.test(token) || !segments.every(isCanonicalBase64url)) throw malformed();
    // The payload must be a JSON object: jws parses `null` or `1` too, and jsonwebtoken then
    // fails with a TypeError on a correctly signed token. A look at its first byte, not a parse.
    if (
      !JSON_OBJECT_START.test(
        Buffer.from((segments[1] ?? '').slice(0, 88), 'base64url').toString('latin1'),
      )
    )
      throw malformed();
  }

  /** The key callback for jsonwebtoken: refuses headers that choose their own key, and pins the algorithm. */
  keyChoice(token: string): KeyChoice {
    let refusal: AuthError | undefined;
    const refuse = (error: unknown) => {
      refusal = toAuthError(error) as AuthError;
      return refusal;
    };
    const key: GetPublicKeyOrSecret = (header, done) => {
      let chosen;
      try {
        chosen = this.keyFor(token, header);
      } catch (error) {
        return done(refuse(error));
      }
      // Outside the try: what jsonwebtoken does next is not the key choice's to report.
      if (chosen instanceof KeyObject) return done(null, chosen);
      chosen
        .then(
          (remote) => done(null, remote),
          (error: unknown) => done(refuse(error)),
        )
        // What jsonwebtoken does after the key is its own, as on the synchronous path; only
        // here it would surface as an unhandled rejection, so it is logged.
        .catch((error: unknown) => new Logger('TokenVerifier').error(String(error)));
    };
    return { key, refusal: () => refusal };
  }

  /** Called once before any token is verified: a resource server fetches its keys. */
  onModuleInit(): void {
    void this.config.remoteKeys?.refresh();
  }

  onModuleDestroy(): void {
    this.config.remoteKeys?.close();
  }

  private keyFor(token: string, header: unknown): KeyObject | Promise<KeyObject> {
    // jws decodes any JSON as a header: a string, a number, an array.
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw malformed();
    if (REFUSED_HEADERS.some((name) => name in header)) {
      throw new InvalidTokenError(
        'AUTH_TOKEN_HEADER_REFUSED',
        'The token header carries a parameter that is not accepted',
      );
    }
    const fields = header as Record<string, unknown>;
    const { remoteKeys } = this.config;
    if (remoteKeys) return remoteKeys.resolve(fields).then((key) => pinned(token, key));
    return pinned(token, this.config.keys.resolve(fields));
  }

  /** Checks type, required claims, issuer, audience and time of a signature-verified token. */
  checkClaims({ header, payload }: DecodedToken, expected: TokenUse): TokenClaims {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      throw malformed();
    const claims = payload as Partial<TokenClaims>;
    if (mediaType(header.typ) !== TYP_OF[expected] || claims.token_use !== expected) {
      throw new InvalidTokenError('AUTH_TOKEN_WRONG_TYPE', `An ${expected} token is required here`);
    }
    const missing: string[] = (['sub', 'jti', 'sid'] as const).filter(
      (c) => !isNonEmptyString(claims[c]),
    );
    missing.push(...(['iat', 'nbf', 'exp'] as const).filter((c) => !Number.isFinite(claims[c])));
    if (!Array.isArray(claims.roles) || !claims.roles.every(isNonEmptyString))
      missing.push('roles');
    // Optional, but it bounds the session: a login after the token was issued is not one.
    const { auth_time: authTime, iat } = claims;
    if (
      authTime !== undefined &&
      !(Number.isFinite(authTime) && authTime <= Number(iat) + this.config.clockToleranceSeconds)
    )
      missing.push('auth_time');
    // Optional, but when present it is the issue time's millisecond within the iat second.
    const ms = claims.iat_ms;
    if (
      ms !== undefined &&
      !(Number.isInteger(ms) && Math.floor(ms / 1000) === Math.floor(Number(iat)))
    )
      missing.push('iat_ms');
    if (missing.length > 0) {
      throw new InvalidTokenError(
        'AUTH_TOKEN_CLAIMS_INVALID',
        `The token lacks valid claims: ${missing.join(', ')}`,
      );
    }
    if (claims.iss !== this.config.issuer) {
      throw new InvalidTokenError(
        'AUTH_TOKEN_ISSUER_INVALID',
        'The token was issued by another issuer',
      );
    }
    const aud = claims.aud;
    if (
      aud !== this.config.audience &&
      !(Array.isArray(aud) && aud.includes(this.config.audience))
    ) {
      throw new InvalidTokenError(
        'AUTH_TOKEN_AUDIENCE_INVALID',
        'The token is meant for another audience',
      );
    }
    const now = this.config.clock.now() / 1000;
    const leeway = this.config.clockToleranceSeconds;
    const valid = claims as TokenClaims;
    // A token made with a shared key by another tool cannot outlive what this server would issue.
    const ttl =
      expected === 'access'
        ? this.config.accessTokenTtlSeconds
        : this.config.refreshTokenTtlSeconds;
    if (valid.exp - valid.iat > ttl + leeway) {
      throw new InvalidTokenError(
        'AUTH_TOKEN_CLAIMS_INVALID',
        'The token lives longer than this server allows',
      );
    }
    if (now >= valid.exp + leeway)
      throw new InvalidTokenError('AUTH_TOKEN_EXPIRED', 'The token has expired');
    if (now + leeway < valid.nbf)
      throw new InvalidTokenError('AUTH_TOKEN_NOT_YET_VALID', 'The token is not valid yet');
    if (now + leeway < valid.iat) {
      throw new InvalidTokenError(
        'AUTH_TOKEN_ISSUED_IN_FUTURE',
        'The token claims to be issued in the future',
      );
    }
    return valid;
  }

  /** Full verification outside passport (refresh tokens): the same checks in the same order. */
  async verify(token: string, expected: TokenUse): Promise<TokenClaims> {
    this.checkFormat(token);
    const choice = this.keyChoice(token);
    let decoded: unknown;
    try {
      decoded = await new Promise((resolve, reject) =>
        verifyJws(token, choice.key, this.jsonWebTokenOptions, (error, value) =>
          error ? reject(error) : resolve(value),
        ),
      );
    } catch (error) {
      throw toAuthError(choice.refusal() ?? error) as Error;
    }
    return this.checkClaims(decoded as DecodedToken, expected);
  }
}

/** A key's verification key, once the token's signature has the length its algorithm gives. */
function pinned(token: string, key: RingKey): KeyObject {
  const signatureLength = ECDSA_SIGNATURE_LENGTH[key.alg];
  if (
    signatureLength !== undefined &&
    token.length - token.lastIndexOf('.') - 1 !== signatureLength
  )
    throw invalidSignature();
  return key.verificationKey;
}

/**
 * Errors jsonwebtoken raises for a token, and the SyntaxError jws throws on a payload that is
 * not JSON under a `typ: JWT` header; anything else (an app's findUser failing) is not a token's fault.
 */
const JSONWEBTOKEN_ERRORS = new Set([
  'JsonWebTokenError',
  'TokenExpiredError',
  'NotBeforeError',
  'SyntaxError',
]);

/**
 * Maps what passport-jwt or jsonwebtoken reports to our errors. The format, algorithm and key
 * were checked before jsonwebtoken ran, so what it still refuses is a bad signature or a
 * payload that is not JSON. Any other error is returned as it is, to become a logged 500.
 */
export function toAuthError(error: unknown): unknown {
  if (isAuthError(error)) return error;
  if (error instanceof Error && error.message === 'No auth token') return missingToken();
  if (!(error instanceof Error) || !JSONWEBTOKEN_ERRORS.has(error.name)) return error;
  if (error.message === 'invalid signature') return invalidSignature(error);
  return malformed(error);
}

export const missingToken = (): AuthError =>
  new AuthError(
    'AUTH_TOKEN_MISSING',
    HttpStatus.UNAUTHORIZED,
    'A bearer token is required: Authorization: Bearer <token>',
  );

const invalidSignature = (cause?: unknown): AuthError =>
  new InvalidTokenError('AUTH_TOKEN_SIGNATURE_INVALID', 'The token signature is invalid', cause);

const malformed = (cause?: unknown): AuthError =>
  new InvalidTokenError('AUTH_TOKEN_MALFORMED', 'The token is not a well-formed signed JWT', cause);

/** `typ` is a media type: compared without case, with the `application/` prefix optional. */
const mediaType = (typ: unknown): string | undefined =>
  typeof typ === 'string' ? typ.toLowerCase().replace(/^application\//, '') : undefined;

/**
 * One token, one string: base64url without padding whose unused low bits are zero, so that
 * decoding and encoding again gives the segment back. Otherwise several strings would verify as
 * the same token (the last character of a 256-byte signature has 4 spare bits), and a cache or a
 * denylist keyed on the string would see different tokens. For a string of the base64url
 * alphabet (`JWS_COMPACT` checks that): no lone last character, and no spare bit set in the last
 * one (4 after 2 characters of a group, 2 after 3). Read in place: a decode and re-encode of each
 * segment cost six allocations per token verified.
 */
export function isCanonicalBase64url(segment: string): boolean {
  const spareBits = SPARE_BITS[segment.length % 4]!;
  if (spareBits <= 0) return spareBits === 0;
  const last = BASE64URL.indexOf(segment[segment.length - 1]!);
  return (last & ((1 << spareBits) - 1)) === 0;
}

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0;
