import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  SUPPORTED_ALGORITHMS,
  type AuthModuleOptions,
  type JwtAlgorithm,
  type KeyOptions,
  type TokenLocation,
  type AuditSink,
  JsonLinesAuditSink,
  type LockoutOptions,
  type RateLimit,
  type RedisConnection,
  type RemoteJwksOptions,
} from '../../src/index';
import { parseDurationSeconds } from '../../src/common/duration';

/** Everything the demo reads from its environment, checked in one place. */
export interface DemoConfig {
  port: number;
  /** `DEMO_ROLE`: auth (default: signs in, issues, serves the JWKS) or resource-server (`JWKS_URI`). */
  role: 'auth' | 'resource-server';
  /** `HTTP_ADAPTER`: express (default) or fastify. */
  adapter: 'express' | 'fastify';
  auth: Omit<AuthModuleOptions, 'validateCredentials' | 'findUser' | 'additionalClaims'>;
  passwords: Record<'alice' | 'bob' | 'carol', string>;
  /** Said once at start-up: things that work but should not in production. */
  warnings: string[];
  /** `REVOCATION_STORE`: redis (the default with `REDIS_URL`), cache-manager, or memory. */
  revocationStore: 'memory' | 'redis' | 'cache-manager';
  /** `REDIS_URL`, kept for the stores the demo builds itself (cache-manager's Keyv). */
  redisUrl?: string;
}

/** Reads the demo's environment variables (see README); throws one error listing every bad one. */
export function loadDemoConfig(env: NodeJS.ProcessEnv): DemoConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const duration = (name: string, zero = false): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const seconds = parseDurationSeconds(raw);
    if (seconds === undefined || (seconds === 0 && !zero))
      problems.push(`${name} must be seconds or a duration such as 15m or 7d`);
    return seconds;
  };

  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push('PORT must be a port number');
  const role = (env.DEMO_ROLE || 'auth') as DemoConfig['role'];
  if (!['auth', 'resource-server'].includes(role))
    problems.push('DEMO_ROLE must be auth or resource-server');
  const accessTtl = duration('ACCESS_TOKEN_TTL');
  // Renew in the last 5 minutes by default, or the last third of a shorter access lifetime.
  const renewWithin =
    duration('SLIDING_RENEW_WITHIN') ??
    Math.max(1, Math.min(300, Math.floor((accessTtl ?? 900) / 3)));
  const shared = {
    issuer: env.JWT_ISSUER || 'tokenguard-demo',
    audience: env.JWT_AUDIENCE || 'tokenguard-demo-api',
    accessTokenTtlSeconds: accessTtl,
    refreshTokenTtlSeconds: duration('REFRESH_TOKEN_TTL'),
    tokenLocation: tokenLocationFromEnv(env.TOKEN_LOCATION, problems),
    cookies: {
      secure: env.COOKIE_SECURE !== 'false',
      csrfSecret: csrfSecretFromEnv(env, warnings),
    },
    revocation: {
      redis: redisFromEnv(env, problems),
      keyPrefix: env.REDIS_KEY_PREFIX || undefined,
      timeoutMs: env.REVOCATION_TIMEOUT_MS ? Number(env.REVOCATION_TIMEOUT_MS) : undefined,
      waitForReplicas: env.REDIS_WAIT_FOR_REPLICAS
        ? Number(env.REDIS_WAIT_FOR_REPLICAS)
        : undefined,
      // A resource server reads the auth service's revocations and never writes them.
      readOnly: role === 'resource-server',
    },
    rateLimit: {
      default: rateFromEnv('RATE_LIMIT', env, problems),
      login: rateFromEnv('LOGIN_RATE_LIMIT', env, problems),
      refresh: rateFromEnv('REFRESH_RATE_LIMIT', env, problems),
      lockout: lockoutFromEnv(env.LOGIN_LOCKOUT, problems),
    },
    trustProxy: trustProxyFromEnv(env.TRUST_PROXY, problems),
    auditSink: auditSinkFromEnv(env.AUDIT_SINK, problems),
  };
  const auth: DemoConfig['auth'] =
    role === 'resource-server'
      ? { ...shared, remoteJwks: remoteJwksFromEnv(env, duration, problems) }
      : {
          ...shared,
          keys: [signingKeyFromEnv(env, problems, warnings), ...retiredKeysFromEnv(env, problems)],
          refreshGraceSeconds: duration('REFRESH_GRACE', true),
          sliding: {
            renewWithinSeconds: renewWithin,
            sessionMaxAgeSeconds: duration('SESSION_MAX_AGE'),
          },
        };
  if (env.HTTP_ADAPTER && !['express', 'fastify'].includes(env.HTTP_ADAPTER))
    problems.push('HTTP_ADAPTER must be express or fastify');
  const redisUrl = env.REDIS_URL || undefined;
  const revocationStore = (env.REVOCATION_STORE ||
    (shared.revocation.redis ? 'redis' : 'memory')) as DemoConfig['revocationStore'];
  if (!['memory', 'redis', 'cache-manager'].includes(revocationStore))
    problems.push('REVOCATION_STORE must be memory, redis or cache-manager');
  // A resource server sees the auth service's logouts only in the auth service's Redis.
  if (role === 'resource-server' && revocationStore !== 'redis')
    problems.push(
      "DEMO_ROLE=resource-server needs the auth service's Redis: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES",
    );
  if (revocationStore === 'redis' && !shared.revocation.redis)
    problems.push('REVOCATION_STORE=redis needs REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES');
  // The other stores keep revocations where the demo puts them (see DemoModule), not in Redis itself.
  if (revocationStore !== 'redis') auth.revocation = { ...shared.revocation, redis: undefined };
  if (problems.length > 0)
    throw new Error(`Invalid demo configuration:\n  - ${problems.join('\n  - ')}`);
  return {
    port,
    role,
    adapter: env.HTTP_ADAPTER === 'fastify' ? 'fastify' : 'express',
    auth,
    passwords: {
      alice: env.DEMO_ALICE_PASSWORD || 'alice-password',
      bob: env.DEMO_BOB_PASSWORD || 'bob-password',
      carol: env.DEMO_CAROL_PASSWORD || 'carol-password',
    },
    warnings,
    revocationStore,
    redisUrl,
  };
}

/**
 * `JWKS_URI` (required), `JWKS_REFETCH_INTERVAL` (default 30s) and `JWKS_MAX_CACHE` (default 1d):
 * where a resource server fetches the auth service's keys, and how often at most.
 */
function remoteJwksFromEnv(
  env: NodeJS.ProcessEnv,
  duration: (name: string) => number | undefined,
  problems: string[],
): RemoteJwksOptions {
  if (!env.JWKS_URI) problems.push('DEMO_ROLE=resource-server needs JWKS_URI');
  const maxCacheSeconds = duration('JWKS_MAX_CACHE');
  return {
    uri: env.JWKS_URI ?? '',
    refetchIntervalSeconds: duration('JWKS_REFETCH_INTERVAL'),
    maxCacheSeconds,
    // A short maximum (to see a retired key go quickly) lowers the minimum with it.
    minCacheSeconds: maxCacheSeconds === undefined ? undefined : Math.min(60, maxCacheSeconds),
  };
}

/**
 * `REDIS_CLUSTER_NODES` (`host:port,host:port,...`): a Redis Cluster; else `REDIS_SENTINELS`
 * (`host:port,...` of the sentinels) with `REDIS_SENTINEL_NAME` (default `mymaster`): Redis behind
 * Sentinel; else `REDIS_URL`; else none.
 */
function redisFromEnv(env: NodeJS.ProcessEnv, problems: string[]): RedisConnection | undefined {
  const addresses = (name: string) => {
    const list = (env[name] ?? '').split(',').map((address) => {
      const [host = '', port = ''] = address.trim().split(/:(?=\d+$)/);
      return { host, port: Number(port) };
    });
    if (list.some(({ host, port }) => !host || !Number.isInteger(port) || port <= 0))
      problems.push(`${name} must be host:port,host:port,...`);
    return list;
  };
  if (env.REDIS_CLUSTER_NODES) return { nodes: addresses('REDIS_CLUSTER_NODES') };
  if (env.REDIS_SENTINELS) {
    return { sentinels: addresses('REDIS_SENTINELS'), name: env.REDIS_SENTINEL_NAME || 'mymaster' };
  }
  return env.REDIS_URL || undefined;
}

/** `CSRF_SECRET`, or a random one made at start-up (fine for one instance that never restarts). */
function csrfSecretFromEnv(env: NodeJS.ProcessEnv, warnings: string[]): string | Buffer {
  if (env.CSRF_SECRET) return env.CSRF_SECRET;
  if ((env.TOKEN_LOCATION ?? '').includes('cookies')) {
    warnings.push(
      'No CSRF_SECRET set: using a random one; cookie sessions will not survive a restart.',
    );
  }
  return randomBytes(32);
}

/** `count/duration` (`5/60s`, `100/1m`), or `off`; unset keeps the library's default. */
function rateFromEnv(
  name: string,
  env: NodeJS.ProcessEnv,
  problems: string[],
): RateLimit | false | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'off') return false;
  const [count, window] = raw.split('/');
  const limit = Number(count);
  const seconds = parseDurationSeconds(window ?? '');
  if (!Number.isSafeInteger(limit) || limit < 1 || !seconds) {
    problems.push(`${name} must be a count and a duration such as 5/60s or 100/1m, or off`);
    return undefined;
  }
  return { limit, ttlSeconds: seconds };
}

/** `LOGIN_LOCKOUT`: `failures/window` (`5/15m`, the default) or `off`. */
function lockoutFromEnv(
  raw: string | undefined,
  problems: string[],
): LockoutOptions | false | undefined {
  const rate = rateFromEnv('LOGIN_LOCKOUT', { LOGIN_LOCKOUT: raw }, problems);
  return rate && { maxFailures: rate.limit, windowSeconds: rate.ttlSeconds };
}

/** `TRUST_PROXY`: `false` (default), `true` (one proxy), or the number of proxies in front. */
function trustProxyFromEnv(raw: string | undefined, problems: string[]): number | boolean {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  const hops = Number(raw);
  if (!Number.isSafeInteger(hops) || hops < 0)
    problems.push('TRUST_PROXY must be false, true or a number');
  return hops;
}

/** `AUDIT_SINK`: `logger` (default: through Nest's logger) or `stdout` (bare JSON lines). */
function auditSinkFromEnv(raw: string | undefined, problems: string[]): AuditSink | undefined {
  if (raw === undefined || raw === '' || raw === 'logger') return undefined;
  if (raw === 'stdout') return new JsonLinesAuditSink();
  problems.push('AUDIT_SINK must be logger or stdout');
  return undefined;
}

/** `TOKEN_LOCATION`: `headers` (default), `cookies`, or `headers,cookies`. */
function tokenLocationFromEnv(value: string | undefined, problems: string[]): TokenLocation[] {
  const locations = (value || 'headers').split(',').map((l) => l.trim());
  if (locations.some((l) => l !== 'headers' && l !== 'cookies')) {
    problems.push('TOKEN_LOCATION must be headers, cookies, or headers,cookies');
  }
  return locations as TokenLocation[];
}

/** `JWT_RETIRED_JWKS_FILE`: the previous deployment's JWKS; its keys keep verifying until removed. */
function retiredKeysFromEnv(env: NodeJS.ProcessEnv, problems: string[]): KeyOptions[] {
  if (!env.JWT_RETIRED_JWKS_FILE) return [];
  try {
    const { keys } = JSON.parse(readFileSync(env.JWT_RETIRED_JWKS_FILE, 'utf8')) as {
      keys: (JsonWebKey & { alg: JwtAlgorithm; kid?: string })[];
    };
    return keys.map((jwk) => ({ alg: jwk.alg, kid: jwk.kid, publicKey: jwk }));
  } catch {
    problems.push('JWT_RETIRED_JWKS_FILE must be a readable JWKS file ({"keys": [...]})');
    return [];
  }
}

/** `JWT_ALGORITHM`, `JWT_KEY_ID` and the key: `JWT_SECRET`, `JWT_PRIVATE_KEY(_FILE)`, else a random one. */
function signingKeyFromEnv(
  env: NodeJS.ProcessEnv,
  problems: string[],
  warnings: string[],
): KeyOptions {
  const algorithm = (env.JWT_ALGORITHM ?? 'HS256') as JwtAlgorithm;
  if (!SUPPORTED_ALGORITHMS.includes(algorithm)) {
    problems.push(`JWT_ALGORITHM must be one of ${SUPPORTED_ALGORITHMS.join(', ')}`);
  }
  return {
    alg: algorithm,
    kid: env.JWT_KEY_ID || undefined,
    ...signingKey(env, algorithm, problems, warnings),
  };
}

function signingKey(
  env: NodeJS.ProcessEnv,
  algorithm: JwtAlgorithm,
  problems: string[],
  warnings: string[],
): Pick<KeyOptions, 'secret' | 'privateKey'> {
  if (env.JWT_SECRET) return { secret: env.JWT_SECRET };
  if (env.JWT_PRIVATE_KEY) return { privateKey: env.JWT_PRIVATE_KEY.replace(/\\n/g, '\n') };
  if (env.JWT_PRIVATE_KEY_FILE) {
    try {
      return { privateKey: readFileSync(env.JWT_PRIVATE_KEY_FILE) };
    } catch {
      problems.push('JWT_PRIVATE_KEY_FILE cannot be read');
      return {};
    }
  }
  warnings.push(
    'No JWT_SECRET or JWT_PRIVATE_KEY set: using a random key made at start-up. Tokens will not survive a ' +
      'restart and other instances cannot verify them.',
  );
  if (algorithm.startsWith('HS')) return { secret: randomBytes(64) };
  const { privateKey } = algorithm.startsWith('ES')
    ? generateKeyPairSync('ec', {
        namedCurve: { ES256: 'prime256v1', ES384: 'secp384r1' }[algorithm as string] ?? 'secp521r1',
      })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey };
}
