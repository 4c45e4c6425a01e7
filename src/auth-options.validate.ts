import {
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_REFRESH_GRACE_SECONDS,
  DEFAULT_CONNECTION_RECHECK_SECONDS,
  DEFAULT_REFRESH_PATH,
  DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
  DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
  DEFAULT_REVOCATION_KEY_PREFIX,
  DEFAULT_REVOCATION_TIMEOUT_MS,
  DEFAULT_SESSION_MAX_AGE_SECONDS,
  DEFAULT_LOCKOUT,
  DEFAULT_LOGIN_RATE_LIMIT,
  DEFAULT_REFRESH_RATE_LIMIT,
} from './auth.constants';
import type {
  AuthModuleOptions,
  ConnectionOptions,
  CookieOptions,
  LockoutOptions,
  RateLimit,
  RateLimitOptions,
  RedisConnection,
  RemoteJwksOptions,
  RevocationOptions,
  SlidingOptions,
  TokenLocation,
} from './auth-options.interface';
import { randomBytes } from 'node:crypto';
import { type Clock, SystemClock } from './common/clock';
import { kindOf } from './common/kind-of';
import { isClient, isClusterConfig, isSentinelConfig } from './common/redis';
import { AuthConfigError } from './errors/auth.errors';
import { buildKeyRing, KeyRing } from './keys/key-ring';
import { RemoteKeySet } from './keys/remote-key-set';
import { GENERATE_SECRET, secretWeakness } from './keys/secret-strength';
import { CacheManagerRevocationStore } from './revocation/cache-manager-revocation.store';
import { RevocationStore } from './revocation/revocation-store';
import type { RateLimitStore } from './rate-limit/rate-limit.store';

/** The options after validation: defaults applied, keys imported. Injected wherever options are read. */
export class AuthConfig {
  readonly options!: AuthModuleOptions;
  /** The ring of keys held here; empty on a resource server (`remoteJwks`). */
  readonly keys!: KeyRing;
  /** A resource server's keys: the auth service's JWKS. */
  readonly remoteKeys?: RemoteKeySet;
  readonly accessTokenTtlSeconds!: number;
  readonly refreshTokenTtlSeconds!: number;
  readonly clockToleranceSeconds!: number;
  readonly refreshGraceSeconds!: number;
  readonly clock!: Clock;
  readonly revocation!: ResolvedRevocationOptions;
  /** Undefined when sliding sessions are off. */
  readonly sliding?: Required<SlidingOptions>;
  readonly tokenLocation!: TokenLocation[];
  readonly cookies!: ResolvedCookieOptions;
  readonly rateLimit!: ResolvedRateLimitOptions;
  /** Proxies trusted to append to X-Forwarded-For; 0 when none. */
  readonly trustProxy!: number;
  readonly connections!: Required<ConnectionOptions>;
  readonly verifiedTokenCacheSize!: number;

  /** Frozen, with its resolved parts: read by every service, changed by none. */
  constructor(values: Omit<AuthConfig, 'issuer' | 'audience'>) {
    Object.assign(this, values);
    for (const part of [
      this.revocation,
      this.rateLimit,
      this.cookies,
      this.sliding,
      this.connections,
    ]) {
      if (part) Object.freeze(part);
    }
    Object.freeze(this);
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

export interface ResolvedRateLimitOptions {
  default: RateLimit | false;
  login: RateLimit | false;
  refresh: RateLimit | false;
  /** Falling back to revocation's. */
  redis?: RedisConnection;
  keyPrefix: string;
  timeoutMs: number;
  lockout: Required<LockoutOptions> | false;
  store?: RateLimitStore;
  failOpen: boolean;
}

// A Record, so the compiler insists that every option is listed here.
const KNOWN: Record<keyof AuthModuleOptions, true> = {
  keys: true,
  verifyOnly: true,
  remoteJwks: true,
  algorithm: true,
  secret: true,
  privateKey: true,
  keyId: true,
  issuer: true,
  audience: true,
  accessTokenTtlSeconds: true,
  refreshTokenTtlSeconds: true,
  clockToleranceSeconds: true,
  refreshGraceSeconds: true,
  validateCredentials: true,
  findUser: true,
  additionalClaims: true,
  sliding: true,
  tokenLocation: true,
  cookies: true,
  connections: true,
  revocation: true,
  verifiedTokenCacheSize: true,
  rateLimit: true,
  trustProxy: true,
  auditSink: true,
  inspectRequest: true,
  clock: true,
};
const KNOWN_OPTIONS = new Set(Object.keys(KNOWN));

/** Validates every option and throws one AuthConfigError naming each bad one. */
export function resolveAuthConfig(options: AuthModuleOptions | undefined): AuthConfig {
  if (!options) throw new AuthConfigError(['AuthModule options are missing']);
  const problems: string[] = [];
  for (const name of Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key))) {
    const near = nearest(name, KNOWN_OPTIONS);
    problems.push(`unknown option ${name}${near ? `: did you mean ${near}?` : ''}`);
  }

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
    300,
  );
  const grace = seconds(
    options.refreshGraceSeconds,
    DEFAULT_REFRESH_GRACE_SECONDS,
    'refreshGraceSeconds',
    problems,
    0,
    300,
  );
  for (const hook of [
    'validateCredentials',
    'findUser',
    'additionalClaims',
    'inspectRequest',
  ] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function')
      problems.push(`${hook} must be a function`);
  }
  const cacheSize = options.verifiedTokenCacheSize;
  if (cacheSize !== undefined && (!Number.isSafeInteger(cacheSize) || cacheSize < 0)) {
    problems.push('verifiedTokenCacheSize must be a whole number, 0 or more');
  }
  const clock = options.clock ?? new SystemClock();
  const remoteJwks = resolveRemoteJwks(options, problems);
  const keys = remoteJwks ? new KeyRing([], undefined) : buildKeyRing(options, problems);
  // A rotation whose WAIT falls short answers 503 after it happened: the client's retry with the
  // same refresh token is a replay only within the grace window, reuse (the session ends) without.
  if ((options.revocation?.waitForReplicas ?? 0) > 0 && grace === 0)
    problems.push(
      'revocation.waitForReplicas needs a refreshGraceSeconds above 0 (a retried refresh would count as reuse)',
    );
  const { tokenLocation, cookies } = resolveTransport(options, problems);
  const sliding = resolveSliding(options.sliding, access, problems);
  const revocation = resolveRevocation(options.revocation ?? {}, problems);
  const rateLimit = resolveRateLimit(options.rateLimit ?? {}, revocation, problems);
  const connections = {
    recheckSeconds: DEFAULT_CONNECTION_RECHECK_SECONDS,
    ...options.connections,
  };
  if (!(connections.recheckSeconds >= 0.05 && connections.recheckSeconds <= 3600)) {
    problems.push('connections.recheckSeconds must be a number of seconds from 0.05 to 3600');
  }
  const { trustProxy = false } = options;
  const hops = trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy;
  if (!Number.isSafeInteger(hops) || hops < 0 || hops > 10) {
    problems.push('trustProxy must be true, false, or a number of proxies from 0 to 10');
  }
  if (options.auditSink !== undefined && typeof options.auditSink?.write !== 'function') {
    problems.push('auditSink must have a write(event) method');
  }

  if (
    problems.length > 0 ||
    !keys ||
    access === undefined ||
    refresh === undefined ||
    tolerance === undefined ||
    grace === undefined
  ) {
    throw new AuthConfigError(problems);
  }
  return new AuthConfig({
    options,
    keys,
    ...(remoteJwks && { remoteKeys: new RemoteKeySet(remoteJwks, clock) }),
    accessTokenTtlSeconds: access,
    refreshTokenTtlSeconds: refresh,
    clockToleranceSeconds: tolerance,
    refreshGraceSeconds: grace,
    clock,
    revocation,
    sliding,
    tokenLocation,
    cookies,
    rateLimit,
    trustProxy: hops,
    connections,
    verifiedTokenCacheSize: cacheSize ?? DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
  });
}

function resolveRateLimit(
  options: RateLimitOptions,
  revocation: ResolvedRevocationOptions,
  problems: string[],
): ResolvedRateLimitOptions {
  // The counters' connection: the rate limit's own settings, else the revocation store's.
  const connection = {
    redis: options.redis ?? revocation.redis,
    keyPrefix: options.keyPrefix ?? revocation.keyPrefix,
    timeoutMs: options.timeoutMs ?? revocation.timeoutMs,
  };
  if (
    options.redis !== undefined ||
    options.keyPrefix !== undefined ||
    options.timeoutMs !== undefined
  ) {
    checkConnection('rateLimit', { ...connection, redis: options.redis }, problems);
  }
  const limit = (resolved: RateLimit | false, name: string) => {
    if (resolved === false) return false;
    if (
      !Number.isSafeInteger(resolved.limit) ||
      resolved.limit < 1 ||
      !Number.isSafeInteger(resolved.ttlSeconds) ||
      resolved.ttlSeconds < 1
    ) {
      problems.push(`rateLimit.${name} needs a whole limit and ttlSeconds, each at least 1`);
    }
    return resolved;
  };
  let lockout: Required<LockoutOptions> | false = false;
  if (options.lockout !== false) {
    lockout = { ...DEFAULT_LOCKOUT, ...options.lockout };
    for (const [name, value] of Object.entries(lockout)) {
      if (!Number.isSafeInteger(value) || value < 1)
        problems.push(`rateLimit.lockout.${name} must be a whole number, at least 1`);
    }
    if (lockout.maxLockSeconds < lockout.lockSeconds)
      problems.push('rateLimit.lockout.maxLockSeconds must not be shorter than lockSeconds');
  }
  return {
    default: options.default === undefined ? false : limit(options.default, 'default'),
    login: limit(options.login ?? DEFAULT_LOGIN_RATE_LIMIT, 'login'),
    refresh: limit(options.refresh ?? DEFAULT_REFRESH_RATE_LIMIT, 'refresh'),
    lockout,
    ...(options.store && { store: options.store }),
    ...connection,
    failOpen: options.failOpen === true,
  };
}

function resolveTransport(
  options: AuthModuleOptions,
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
    refreshPath = DEFAULT_REFRESH_PATH,
    csrfSecret,
    allowedOrigins = [],
  } = options.cookies ?? {};
  if (!Array.isArray(allowedOrigins) || !allowedOrigins.every(isOrigin)) {
    problems.push('cookies.allowedOrigins must list origins such as "https://app.example.com"');
  }
  if (!['strict', 'lax', 'none'].includes(sameSite))
    problems.push('cookies.sameSite must be strict, lax or none');
  if (sameSite === 'none' && !secure) problems.push('cookies.sameSite "none" needs cookies.secure');
  // Not derived from the signing key: rotating that would void every cookie session's CSRF token.
  let csrfKey = randomBytes(32);
  if (csrfSecret !== undefined) {
    csrfKey = Buffer.from(csrfSecret);
    const weakness = csrfKey.length < 32 ? 'is shorter than 32 bytes' : secretWeakness(csrfKey);
    if (weakness) problems.push(`cookies.csrfSecret ${weakness}; ${GENERATE_SECRET}`);
  } else if (tokenLocation.includes('cookies')) {
    problems.push(
      'cookies.csrfSecret is required with the cookie transport (32+ random bytes, the same on every instance)',
    );
  }
  return { tokenLocation, cookies: { secure, sameSite, refreshPath, csrfKey, allowedOrigins } };
}

/** `scheme://host[:port]` and nothing more, as browsers send it in `Origin`. */
function isOrigin(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

/**
 * A resource server's JWKS settings, defaults applied; undefined without `remoteJwks`. Such a
 * server holds no key and issues nothing: key options and sliding renewal are refused beside it.
 */
function resolveRemoteJwks(
  options: AuthModuleOptions,
  problems: string[],
): Required<RemoteJwksOptions> | undefined {
  if (options.remoteJwks === undefined) return undefined;
  const {
    uri,
    timeoutMs = 5000,
    refetchIntervalSeconds = 30,
    minCacheSeconds = 60,
    maxCacheSeconds = 86_400,
  } = options.remoteJwks;
  const before = problems.length;
  const url = URL.canParse(String(uri)) ? new URL(String(uri)) : undefined;
  // Whoever can change the answer in transit can sign any token: plain http only where nothing
  // is in between (loopback), or where the app says TLS ends before it (allowHttp).
  const loopback = url && /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname);
  const http = url?.protocol === 'http:' && (loopback || options.remoteJwks.allowHttp === true);
  if (!url || !(url.protocol === 'https:' || http) || url.username || url.password) {
    problems.push(
      'remoteJwks.uri must be an https URL (http only on loopback, or with remoteJwks.allowHttp inside a network that cannot be listened to)',
    );
  }
  const own = (
    ['keys', 'secret', 'privateKey', 'algorithm', 'keyId', 'verifyOnly'] as const
  ).filter((name) => options[name] !== undefined);
  if (own.length > 0)
    problems.push(`remoteJwks takes the auth service's keys: remove ${own.join(', ')}`);
  if (options.sliding !== undefined)
    problems.push(
      'sliding renews tokens, which a resource server (remoteJwks) cannot sign: remove it',
    );
  const whole = (value: number, name: string, min: number, max: number) => {
    if (!Number.isSafeInteger(value) || value < min || value > max)
      problems.push(`remoteJwks.${name} must be a whole number from ${min} to ${max}`);
  };
  whole(timeoutMs, 'timeoutMs', 1, 60_000);
  whole(refetchIntervalSeconds, 'refetchIntervalSeconds', 1, 3600);
  whole(minCacheSeconds, 'minCacheSeconds', 1, 86_400 * 7);
  whole(maxCacheSeconds, 'maxCacheSeconds', 1, 86_400 * 7);
  if (minCacheSeconds > maxCacheSeconds)
    problems.push('remoteJwks.minCacheSeconds must not exceed maxCacheSeconds');
  if (problems.length > before) return undefined;
  return {
    uri: url!.href,
    timeoutMs,
    refetchIntervalSeconds,
    minCacheSeconds,
    maxCacheSeconds,
    allowHttp: options.remoteJwks.allowHttp === true,
  };
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
  checkConnection('revocation', { redis: options.redis, keyPrefix, timeoutMs }, problems);
  const { redis, store, cache } = options;
  if (store !== undefined && !(store instanceof RevocationStore) && !implementsStore(store)) {
    problems.push(
      `revocation.store must implement RevocationStore (isRevoked, startSession, rotate, revokeToken, revokeSession, revokeUser); it was given ${kindOf(store)}${
        (store as { stores?: unknown }).stores
          ? ' (a cache-manager cache goes in revocation.cache)'
          : ''
      }`,
    );
  }
  if (cache !== undefined) {
    problems.push(
      ...CacheManagerRevocationStore.problems(cache, {
        keyPrefix,
        allowInMemory: options.allowInMemoryCache === true,
      }),
    );
  }
  const chosen = [redis, store, cache].filter((value) => value !== undefined).length;
  if (chosen > 1) problems.push('revocation takes one of redis, store and cache');
  const { waitForReplicas = 0 } = options;
  if (!Number.isSafeInteger(waitForReplicas) || waitForReplicas < 0 || waitForReplicas > 10)
    problems.push('revocation.waitForReplicas must be a whole number from 0 to 10');
  else if (waitForReplicas > 0 && redis === undefined)
    problems.push('revocation.waitForReplicas needs revocation.redis (it is a Redis WAIT)');
  return {
    ...options,
    keyPrefix,
    timeoutMs,
    failOpen: options.failOpen === true,
    readOnly: options.readOnly === true,
    waitForReplicas,
  };
}

/** The checks `revocation` and `rateLimit` share: a Redis URL or client, a prefix, a timeout. */
function checkConnection(
  name: 'revocation' | 'rateLimit',
  { redis, keyPrefix, timeoutMs }: { redis?: unknown; keyPrefix: unknown; timeoutMs: unknown },
  problems: string[],
): void {
  if (typeof keyPrefix !== 'string') problems.push(`${name}.keyPrefix must be a string`);
  else if (/[{}]/.test(keyPrefix)) {
    problems.push(
      `${name}.keyPrefix must not contain { or }: TokenGuard gives each user's keys a hash tag of their own (Redis Cluster)`,
    );
  }
  if (
    !Number.isSafeInteger(timeoutMs) ||
    (timeoutMs as number) < 1 ||
    (timeoutMs as number) > 10_000
  ) {
    problems.push(`${name}.timeoutMs must be whole milliseconds between 1 and 10000`);
  }
  // Sentinels and cluster nodes alike: at least one { host, port }.
  const addresses = (list: { host?: unknown; port?: unknown }[]) =>
    list.length > 0 &&
    list.every((a) => typeof a?.host === 'string' && a.host !== '' && Number.isInteger(a.port));
  if (isSentinelConfig(redis)) {
    if (!addresses(redis.sentinels))
      problems.push(`${name}.redis.sentinels must list { host, port } of at least one sentinel`);
    if (redis.name === '')
      problems.push(`${name}.redis.name must name the master the sentinels watch`);
  } else if (isClusterConfig(redis)) {
    if (!addresses(redis.nodes))
      problems.push(`${name}.redis.nodes must list { host, port } of at least one cluster node`);
  } else if (
    typeof redis === 'string'
      ? !/^rediss?:\/\//.test(redis)
      : redis !== undefined && !isClient(redis)
  ) {
    const given = typeof redis === 'string' ? 'a string that is not one' : kindOf(redis);
    problems.push(
      `${name}.redis must be a redis:// or rediss:// URL, a Sentinel configuration ({ sentinels, name }), a Cluster configuration ({ nodes }) or an ioredis client or Cluster; it was given ${given}${
        (redis as { stores?: unknown } | undefined)?.stores
          ? ' (a cache-manager cache goes in revocation.cache)'
          : ''
      }`,
    );
  }
}

const STORE_METHODS = [
  'isRevoked',
  'startSession',
  'rotate',
  'revokeToken',
  'revokeSession',
  'revokeUser',
] as const;

function implementsStore(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    STORE_METHODS.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

function seconds(
  value: number | undefined,
  fallback: number,
  name: string,
  problems: string[],
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    problems.push(`${name} must be a whole number of seconds, at least ${min}`);
    return undefined;
  }
  if (value > max) {
    problems.push(`${name} (${value}) must be at most ${max}`);
    return undefined;
  }
  return value;
}

/**
 * The known name a misspelt one most likely meant: the one it begins (`accessTokenTTL`), else
 * the closest by edit distance, ignoring case, if close enough to be a slip rather than another
 * word. Hand-written: a dozen lines, where a library would be a dependency for one message.
 */
function nearest(name: string, known: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const lower = candidate.toLowerCase();
    if (wanted.length >= 4 && lower.startsWith(wanted)) return candidate;
    const distance = editDistance(wanted, lower);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(wanted.length / 4))
    ? best.name
    : undefined;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
