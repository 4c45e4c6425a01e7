import {
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
  DEFAULT_REVOCATION_KEY_PREFIX,
  DEFAULT_REVOCATION_TIMEOUT_MS,
  DEFAULT_SESSION_MAX_AGE_SECONDS,
} from './auth.constants';
import type {
  AuthModuleOptions,
  CookieOptions,
  RevocationOptions,
  SlidingOptions,
  TokenLocation,
} from './auth-options.interface';
import { hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { type Clock, SystemClock } from './common/clock';
import { AuthConfigError } from './errors/auth.errors';
import { buildKeyRing, type KeyRing } from './keys/key-ring';

/** The options after validation: defaults applied, keys imported. Injected wherever options are read. */
export class AuthConfig {
  readonly options!: AuthModuleOptions;
  readonly keys!: KeyRing;
  readonly accessTokenTtlSeconds!: number;
  readonly refreshTokenTtlSeconds!: number;
  readonly clockToleranceSeconds!: number;
  readonly clock!: Clock;
  readonly revocation!: ResolvedRevocationOptions;
  /** Undefined when sliding sessions are off. */
  readonly sliding?: Required<SlidingOptions>;
  readonly tokenLocation!: TokenLocation[];
  readonly cookies!: ResolvedCookieOptions;

  constructor(values: Omit<AuthConfig, 'issuer' | 'audience'>) {
    Object.assign(this, values);
  }

  get issuer(): string {
    return this.options.issuer;
  }

  get audience(): string {
    return this.options.audience;
  }
}

export type ResolvedCookieOptions = Required<Omit<CookieOptions, 'csrfSecret'>> & {
  csrfKey: Buffer;
};

export type ResolvedRevocationOptions = Omit<
  RevocationOptions,
  'keyPrefix' | 'timeoutMs' | 'failOpen'
> &
  Required<Pick<RevocationOptions, 'keyPrefix' | 'timeoutMs' | 'failOpen'>>;

// A Record, so the compiler insists that every option is listed here.
const KNOWN: Record<keyof AuthModuleOptions, true> = {
  keys: true,
  verifyOnly: true,
  algorithm: true,
  secret: true,
  privateKey: true,
  keyId: true,
  issuer: true,
  audience: true,
  accessTokenTtlSeconds: true,
  refreshTokenTtlSeconds: true,
  clockToleranceSeconds: true,
  validateCredentials: true,
  findUser: true,
  additionalClaims: true,
  sliding: true,
  tokenLocation: true,
  cookies: true,
  revocation: true,
  verifiedTokenCacheSize: true,
  clock: true,
};
const KNOWN_OPTIONS = new Set(Object.keys(KNOWN));

/** Validates every option and throws one AuthConfigError naming each bad one. */
export function resolveAuthConfig(options: AuthModuleOptions | undefined): AuthConfig {
  if (!options) throw new AuthConfigError(['AuthModule options are missing']);
  const problems: string[] = [];
  const unknown = Object.keys(options).filter((name) => !KNOWN_OPTIONS.has(name));
  if (unknown.length > 0) problems.push(`unknown options: ${unknown.join(', ')}`);

  for (const name of ['issuer', 'audience'] as const) {
    const value: unknown = options[name];
    if (typeof value !== 'string' || value.trim() === '') problems.push(`${name} is required`);
  }
  const access = seconds(
    options.accessTokenTtlSeconds,
    DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
    'accessTokenTtlSeconds',
    problems,
    1,
  );
  const refresh = seconds(
    options.refreshTokenTtlSeconds,
    DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
    'refreshTokenTtlSeconds',
    problems,
    1,
  );
  if (access !== undefined && refresh !== undefined && refresh < access) {
    problems.push(
      `refreshTokenTtlSeconds (${refresh}) must not be shorter than accessTokenTtlSeconds (${access})`,
    );
  }
  const tolerance = seconds(
    options.clockToleranceSeconds,
    DEFAULT_CLOCK_TOLERANCE_SECONDS,
    'clockToleranceSeconds',
    problems,
    0,
  );
  if (tolerance !== undefined && tolerance > 300) {
    problems.push(`clockToleranceSeconds (${tolerance}) must be at most 300`);
  }
  for (const hook of ['validateCredentials', 'findUser', 'additionalClaims'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function')
      problems.push(`${hook} must be a function`);
  }
  const cacheSize = options.verifiedTokenCacheSize;
  if (cacheSize !== undefined && (!Number.isSafeInteger(cacheSize) || cacheSize < 0)) {
    problems.push('verifiedTokenCacheSize must be a whole number, 0 or more');
  }
  const keys = buildKeyRing(options, problems);
  const { tokenLocation, cookies } = resolveTransport(options, keys?.signing?.signingKey, problems);
  const sliding = resolveSliding(options.sliding, access, problems);
  const revocation = resolveRevocation(options.revocation ?? {}, problems);

  if (
    problems.length > 0 ||
    !keys ||
    access === undefined ||
    refresh === undefined ||
    tolerance === undefined
  ) {
    throw new AuthConfigError(problems);
  }
  return new AuthConfig({
    options,
    keys,
    accessTokenTtlSeconds: access,
    refreshTokenTtlSeconds: refresh,
    clockToleranceSeconds: tolerance,
    clock: options.clock ?? new SystemClock(),
    revocation,
    sliding,
    tokenLocation,
    cookies,
  });
}

function resolveTransport(
  options: AuthModuleOptions,
  signingKey: KeyObject | undefined,
  problems: string[],
): { tokenLocation: TokenLocation[]; cookies: ResolvedCookieOptions } {
  const tokenLocation = options.tokenLocation ?? ['headers'];
  if (
    !Array.isArray(tokenLocation) ||
    tokenLocation.length === 0 ||
    tokenLocation.some((l) => l !== 'headers' && l !== 'cookies')
  ) {
    problems.push('tokenLocation must list "headers", "cookies" or both');
  }
  const {
    secure = true,
    sameSite = 'strict',
    refreshPath = '/auth/refresh',
    csrfSecret,
  } = options.cookies ?? {};
  if (!['strict', 'lax', 'none'].includes(sameSite))
    problems.push('cookies.sameSite must be strict, lax or none');
  if (sameSite === 'none' && !secure) problems.push('cookies.sameSite "none" needs cookies.secure');
  const material =
    signingKey?.type === 'secret'
      ? signingKey.export()
      : signingKey?.export({ type: 'pkcs8', format: 'der' });
  let csrfKey = deriveCsrfKey(csrfSecret, material);
  if (!csrfKey) {
    if (tokenLocation.includes('cookies'))
      problems.push('cookies.csrfSecret is required when no key signs (verifyOnly)');
    csrfKey = randomBytes(32);
  }
  return { tokenLocation, cookies: { secure, sameSite, refreshPath, csrfKey } };
}

/** The CSRF key: configured, else derived from the signing key so that every instance agrees. */
function deriveCsrfKey(
  secret: string | Buffer | undefined,
  signingMaterial: Buffer | undefined,
): Buffer | undefined {
  if (secret !== undefined) return Buffer.from(secret);
  if (!signingMaterial) return undefined;
  return Buffer.from(hkdfSync('sha256', signingMaterial, Buffer.alloc(0), 'tokenguard csrf', 32));
}

function resolveSliding(
  options: SlidingOptions | undefined,
  accessTtl: number | undefined,
  problems: string[],
): Required<SlidingOptions> | undefined {
  if (!options) return undefined;
  const { renewWithinSeconds, sessionMaxAgeSeconds = DEFAULT_SESSION_MAX_AGE_SECONDS } = options;
  if (!Number.isSafeInteger(renewWithinSeconds) || renewWithinSeconds < 1) {
    problems.push('sliding.renewWithinSeconds must be a whole number of seconds, at least 1');
  } else if (accessTtl !== undefined && renewWithinSeconds >= accessTtl) {
    problems.push(
      'sliding.renewWithinSeconds must be shorter than accessTokenTtlSeconds, or every request renews',
    );
  }
  if (!Number.isSafeInteger(sessionMaxAgeSeconds) || sessionMaxAgeSeconds < 1) {
    problems.push('sliding.sessionMaxAgeSeconds must be a whole number of seconds, at least 1');
  }
  return { renewWithinSeconds, sessionMaxAgeSeconds };
}

function resolveRevocation(
  options: RevocationOptions,
  problems: string[],
): ResolvedRevocationOptions {
  const { keyPrefix = DEFAULT_REVOCATION_KEY_PREFIX, timeoutMs = DEFAULT_REVOCATION_TIMEOUT_MS } =
    options;
  if (typeof keyPrefix !== 'string') problems.push('revocation.keyPrefix must be a string');
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 10_000) {
    problems.push('revocation.timeoutMs must be whole milliseconds between 1 and 10000');
  }
  const { redis } = options;
  if (
    typeof redis === 'string'
      ? !/^rediss?:\/\//.test(redis)
      : redis !== undefined && typeof redis !== 'object'
  ) {
    problems.push('revocation.redis must be a redis:// or rediss:// URL or an ioredis client');
  }
  return { ...options, keyPrefix, timeoutMs, failOpen: options.failOpen === true };
}

function seconds(
  value: number | undefined,
  fallback: number,
  name: string,
  problems: string[],
  min: number,
): number | undefined {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    problems.push(`${name} must be a whole number of seconds, at least ${min}`);
    return undefined;
  }
  return value;
}
