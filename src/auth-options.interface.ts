import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { Cluster, Redis } from 'ioredis';
import type { AuditSink } from './audit/audit-event';
import type { ClientRequest } from './common/client';
export type { AuthUser } from './tokens/token-claims.interface';
import type { Clock } from './common/clock';
import type { RateLimitStore } from './rate-limit/rate-limit.store';
import type { AuthPrincipal, AuthUser } from './tokens/token-claims.interface';
import type { RevocationStore } from './revocation/revocation-store';

/** Signing algorithms TokenGuard accepts; `none` is not one of them and never will be. */
export const SUPPORTED_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
export type JwtAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

type MaybePromise<T> = T | Promise<T>;

/** What TokenGuard needs of a cache-manager 7 cache (`CACHE_MANAGER`): its Keyv stores. */
export interface CacheManagerLike {
  stores: readonly unknown[];
}

/** A key as PEM text, a KeyObject, or a JWK (object, or JSON text). */
export type KeyMaterial = string | Buffer | KeyObject | JsonWebKey;

/** One key of the ring. Key material by value or from a file (PEM or JWK JSON). */
export interface KeyOptions {
  /** The one algorithm this key signs and verifies with. */
  alg: JwtAlgorithm;
  /** Default: derived from the key (a truncated RFC 7638 thumbprint). */
  kid?: string;
  /** HS*: at least as many random bytes as the hash (32, 48, 64). */
  secret?: string | Buffer | KeyObject | JsonWebKey;
  secretFile?: string;
  /** RS*, PS*, ES*: the active (first) key's private key; its public key is derived. */
  privateKey?: KeyMaterial;
  privateKeyFile?: string;
  /** RS*, PS*, ES*: the public key of a key that only verifies (retired, or a verify-only ring). */
  publicKey?: KeyMaterial;
  publicKeyFile?: string;
}

/** Options of `AuthModule.forRoot` / `forRootAsync`. Checked once at start-up. */
export interface AuthModuleOptions {
  /**
   * The key ring: the first key signs every new token, the others only verify (give their public
   * keys) until tokens they signed have expired. Instead of the single-key options below.
   */
  keys?: KeyOptions[];
  /** A ring that only verifies (a resource server): no key signs, every key is public. */
  verifyOnly?: boolean;
  /**
   * A resource server: verify access tokens with the keys the auth service publishes at its JWKS
   * URL, fetched and cached (see README, "Deploying at scale"), instead of keys of its own. No
   * `keys`, `secret` or `privateKey` then, and no sliding renewal: this service issues nothing.
   */
  remoteJwks?: RemoteJwksOptions;
  /** Single-key shorthand: signing algorithm. Default `HS256`. */
  algorithm?: JwtAlgorithm;
  /** HMAC secret for HS*: at least as many bytes as the hash (32, 48, 64), random, not a placeholder. */
  secret?: string | Buffer | KeyObject;
  /** Private key (PEM or KeyObject) for RS*, PS* and ES*; the public key is derived from it. */
  privateKey?: string | Buffer | KeyObject;
  /** `kid` header of issued tokens. Default: derived from the key (a truncated RFC 7638 thumbprint). */
  keyId?: string;
  /** `iss` of issued tokens; verified tokens must carry exactly this. Required. */
  issuer: string;
  /** `aud` of issued tokens; verified tokens must name it. Required. */
  audience: string;
  /** Access token lifetime in seconds. Default 900 (15 minutes). */
  accessTokenTtlSeconds?: number;
  /** Refresh token lifetime in seconds, at least the access lifetime. Default 604800 (7 days). */
  refreshTokenTtlSeconds?: number;
  /** Leeway for `exp`, `nbf` and `iat` between machines' clocks, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /**
   * Seconds after a rotation during which the replaced refresh token gets the same successor
   * again (a retry after a lost response, two tabs at once) instead of ending the session as
   * reused. 0 turns it off; at most 300. Default 30.
   */
  refreshGraceSeconds?: number;
  /**
   * Checks a username and password; resolves the user, or null when either is wrong.
   * Should take the same time in both cases (verify against a dummy hash for unknown users).
   */
  validateCredentials?: (username: string, password: string) => MaybePromise<AuthUser | null>;
  /**
   * Loads the user behind a verified token, on every guarded request and on refresh; null or
   * undefined refuses the token (user deleted or disabled). Its `roles` replace the token's.
   */
  findUser?: (sub: string) => MaybePromise<AuthUser | null | undefined>;
  /** Adds custom claims to access tokens. Reserved claims (sub, iss, roles, ...) always win. */
  additionalClaims?: (user: AuthUser) => Record<string, unknown>;
  /** Where access tokens are read from (Flask-JWT-Extended's JWT_TOKEN_LOCATION). Default `['headers']`. */
  tokenLocation?: TokenLocation[];
  /** Cookie transport settings, used when `tokenLocation` includes `cookies`. */
  cookies?: CookieOptions;
  /** Sliding sessions: renew access tokens near expiry through `X-New-Token`. Default: off. */
  sliding?: SlidingOptions;
  /** Where revocations and refresh-token rotation state live. Default: in this process's memory. */
  revocation?: RevocationOptions;
  /**
   * How many verified access tokens to remember so that their signature is not checked again on
   * every request (all other checks still run). Default 10000; 0 turns it off.
   */
  verifiedTokenCacheSize?: number;
  /**
   * Rate limits (through @nestjs/throttler) and login lockout. On by default; counters live in
   * Redis when `revocation.redis` is set, so every instance shares them.
   */
  rateLimit?: RateLimitOptions;
  /**
   * How many proxies in front of the app append to `X-Forwarded-For`: the client is the address
   * that many entries from the right. `true` means 1. Default false: the socket's peer, since a
   * client can write any `X-Forwarded-For` it likes.
   */
  trustProxy?: boolean | number;
  /** Where audit events go. Default: one JSON line each through Nest's logger (context `Audit`). */
  auditSink?: AuditSink;
  /**
   * Sees every verified access token with its request, after the revocation check; answer
   * `'refuse'` to refuse the request (401 AUTH_TOKEN_REFUSED) or `'revoke'` to refuse it and end
   * the session too (a session suddenly used from elsewhere). Anything else lets it through.
   */
  inspectRequest?: (
    principal: AuthPrincipal,
    request: ClientRequest,
  ) => MaybePromise<'refuse' | 'revoke' | void>;
  /** Sockets and GraphQL subscriptions. */
  connections?: ConnectionOptions;
  /** Source of the current time. Default: the system clock. */
  clock?: Clock;
}

/** Long-lived connections: socket.io and ws gateways, graphql-ws subscriptions. */
export interface ConnectionOptions {
  /**
   * How often every open connection's token is checked again (expiry, revocation, `findUser`);
   * a connection whose session ended is closed at the next check. Default 5 seconds.
   */
  recheckSeconds?: number;
}

/** A limit of `limit` requests per `ttlSeconds`, per client. */
export interface RateLimit {
  limit: number;
  ttlSeconds: number;
}

/** Rate limit and lockout settings. */
export interface RateLimitOptions {
  /**
   * A limit on every route the rate-limit guard covers, per client and route. Off by default: it
   * puts a counter (a store round trip with Redis) on every request of the app; opt in knowingly
   * (the README gives its measured cost). `@NoRateLimit()` exempts a route.
   */
  default?: RateLimit | false;
  /** Routes marked `@LoginEndpoint()`, per client across them all. Default 5 per 60 s; false: none. */
  login?: RateLimit | false;
  /** Routes marked `@RefreshEndpoint()`, per client across them all. Default 120 per 60 s; false: none. */
  refresh?: RateLimit | false;
  /** Failed logins per username, from every address together. False turns lockout off. */
  lockout?: LockoutOptions | false;
  /** Your own counter store; wins over Redis. */
  store?: RateLimitStore;
  /** Redis for the counters. Default: `revocation.redis`, if any. */
  redis?: RedisConnection;
  /** Prefix of the counters' keys. Default: `revocation.keyPrefix`. */
  keyPrefix?: string;
  /** Bound on each counter call, ms (1-10000); past it, 503. Default: `revocation.timeoutMs`. */
  timeoutMs?: number;
  /** Let requests through unlimited while the store cannot answer, instead of 503. Default false. */
  failOpen?: boolean;
}

/** Login lockout: after `maxFailures` failures, the username is locked, each lock twice the last. */
export interface LockoutOptions {
  /** Failures that lock a username. Default 5. */
  maxFailures?: number;
  /** Failures older than this are forgotten. Default 900 (15 minutes). */
  windowSeconds?: number;
  /** The first lock. Default 60; each further lock doubles it. */
  lockSeconds?: number;
  /** No lock is longer than this. Default 900 (15 minutes). */
  maxLockSeconds?: number;
}

export type TokenLocation = 'headers' | 'cookies';

/** Cookie transport settings. */
export interface CookieOptions {
  /** Send cookies over HTTPS only. Default true; false only for plain-HTTP localhost development. */
  secure?: boolean;
  /** Default `strict`. */
  sameSite?: 'strict' | 'lax' | 'none';
  /** Path the refresh cookie is scoped to: your refresh route. Default `/auth/refresh`. */
  refreshPath?: string;
  /**
   * Key of the CSRF tokens (HMACs of the session id): 32+ random bytes, the same on every
   * instance. Required with the cookie transport; kept apart from the signing keys so that
   * rotating those leaves cookie sessions working.
   */
  csrfSecret?: string | Buffer;
  /**
   * Origins (`https://app.example.com`) a cookie-authenticated socket or subscription may be
   * opened from, besides the server's own host. Browsers send cookies with cross-site WebSocket
   * handshakes, which SameSite does not always stop, and a socket carries no CSRF token.
   */
  allowedOrigins?: string[];
}

/** Sliding session settings. */
export interface SlidingOptions {
  /** A guarded response renews an access token with less than this many seconds left. */
  renewWithinSeconds: number;
  /** No renewal past this many seconds after login (`auth_time`), however active. Default 43200 (12 h). */
  sessionMaxAgeSeconds?: number;
}

/** Redis behind Sentinel: the sentinels to ask and the name of the master they watch. */
export interface RedisSentinelOptions {
  sentinels: { host: string; port: number }[];
  /** The master's name in the sentinels' configuration (`sentinel monitor <name> ...`). */
  name: string;
  /** The master's (and replicas') password, if any. */
  password?: string;
  /** The sentinels' own password, if any. */
  sentinelPassword?: string;
  db?: number;
}

/** A Redis Cluster: some of its nodes (the rest are discovered), and its credentials. */
export interface RedisClusterOptions {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  /** TLS to every node (a managed cluster that takes TLS only): Node's `tls.connect` options. */
  tls?: TlsOptions;
}

/**
 * Where Redis is: a URL, a Sentinel or a Cluster configuration (TokenGuard opens and closes the
 * connection, and bounds every call by the store's `timeoutMs`), or an ioredis client or
 * `Cluster` you manage (give it `enableOfflineQueue: false`, and a `commandTimeout`).
 */
export type RedisConnection = string | RedisSentinelOptions | RedisClusterOptions | Redis | Cluster;

/** Revocation store settings. */
export interface RevocationOptions {
  /** Redis shared by every instance. */
  redis?: RedisConnection;
  /** Your own store instead (see RevocationStore). */
  store?: RevocationStore;
  /**
   * The app's cache-manager 7 cache (`CACHE_MANAGER` from @nestjs/cache-manager) on one Keyv 5
   * store created with `throwOnErrors: true`: @keyv/redis (shared by every instance), or Keyv's
   * in-memory Map with `allowInMemoryCache`. Read through Keyv, never `cache.get`.
   */
  cache?: CacheManagerLike;
  /**
   * Accept `cache` on an in-memory Keyv: one instance only, forgotten on restart; TokenGuard then
   * keeps revocations in its memory store beside the cache. Default false.
   */
  allowInMemoryCache?: boolean;
  /** Prefix of every Redis key. Default `tokenguard:`. */
  keyPrefix?: string;
  /** How long a store call may take before the request is refused with 503. Default 300 ms. */
  timeoutMs?: number;
  /** Accept tokens unchecked while the store is down, instead of 503. Default false: leave it. */
  failOpen?: boolean;
  /**
   * Only read the store (a resource server sharing the auth service's): logins, refreshes,
   * logouts and revocations are refused with an AuthConfigError instead of written. Default false.
   */
  readOnly?: boolean;
  /**
   * With `redis` and replicas (Sentinel, Cluster): each revocation and rotation waits until this
   * many replicas have it (Redis `WAIT`, within `timeoutMs`; fewer is a 503 and the caller
   * retries), so a master that fails over right after cannot lose it. Default 0: Redis's own
   * asynchronous replication (see README, "Deploying at scale").
   */
  waitForReplicas?: number;
}

/** Where a resource server gets its keys: the auth service's JWKS. */
export interface RemoteJwksOptions {
  /** The auth service's JWKS, such as `https://auth.example.com/.well-known/jwks.json`: the only URL fetched. */
  uri: string;
  /** How long one fetch may take, in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * The least time between two fetches, in seconds: an unknown `kid`, an aged set or a failure
   * asks again at most this often. Default 30.
   */
  refetchIntervalSeconds?: number;
  /**
   * Bounds on how long a fetched set is used before it is fetched again in the background: its
   * `Cache-Control: max-age` (300 without one), held between these. Defaults 60 and 86400.
   */
  minCacheSeconds?: number;
  maxCacheSeconds?: number;
  /**
   * Accept an `http:` URI off loopback: only where nothing can read or change the traffic on
   * the way (TLS ends at a sidecar in front of this service). Default false.
   */
  allowHttp?: boolean;
}
