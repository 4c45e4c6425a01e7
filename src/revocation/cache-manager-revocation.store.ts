import { Logger, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { CacheManagerLike } from '../auth-options.interface';
import { kindOf } from '../common/kind-of';
import { AuthConfigError } from '../errors/auth.errors';
import { revocationKeys, type RevocationKeys } from '../common/redis-keys';
import { KEYV_ENVELOPE, redisScripts, rotationResult } from './redis-scripts';
import {
  REVOKED,
  RevocationStore,
  type RotationResult,
  type SessionRef,
  type Successor,
  type TokenRef,
} from './revocation-store';

/**
 * The parts of a Keyv 5 instance TokenGuard uses. Reads go through Keyv itself, never through
 * cache-manager's `get`/`mget`, which turn every store error into a miss (a revoked token would
 * then pass).
 */
export interface KeyvLike {
  getMany(keys: string[]): Promise<unknown[]>;
  set(key: string, value: unknown, ttl?: number): Promise<boolean>;
  throwOnErrors: boolean;
  readonly store: unknown;
  readonly namespace?: string;
  readonly useKeyPrefix?: boolean;
}

/** @keyv/redis's adapter, as far as TokenGuard uses it: its node-redis client and key naming. */
interface KeyvRedisAdapter {
  getClient(): Promise<{ eval(script: string, options: EvalOptions): Promise<unknown> }>;
  createKeyPrefix(key: string, namespace?: string): string;
  namespace?: string;
  throwOnErrors: boolean;
  client?: { options?: { url?: string; socket?: { host?: string; port?: number } } };
}
type EvalOptions = { keys: string[]; arguments: string[] };

/** Options of the cache-manager store; see `AuthModuleOptions.revocation`. */
export interface CacheManagerRevocationStoreOptions {
  keyPrefix: string;
}

const SCRIPTS = redisScripts(KEYV_ENVELOPE);

/**
 * Revocations on the app's own cache-manager cache (`@nestjs/cache-manager`'s `CACHE_MANAGER`)
 * on @keyv/redis, through the Keyv store underneath it, with errors surfaced (every call is
 * bounded by RevocationService's timer, so an error or a hang is a 503, never a miss). Rotation
 * and the other read-then-write steps are Lua scripts on @keyv/redis's own client, writing Keyv's
 * envelope under the key names a start-up probe found. A cache on Keyv's in-memory Map is one
 * process either way: `AuthModule` gives it the memory store instead (see `createRevocationStore`).
 */
export class CacheManagerRevocationStore extends RevocationStore implements OnModuleInit {
  private readonly logger = new Logger('RevocationStore');
  private readonly keyv: KeyvLike;
  private readonly redis: KeyvRedisAdapter;
  private readonly keys: RevocationKeys;
  /** The Redis name of a Keyv key, once the probe has confirmed it. */
  private rawKey?: (key: string) => string;
  private probing?: Promise<void>;

  constructor(
    cache: CacheManagerLike,
    private readonly options: CacheManagerRevocationStoreOptions,
  ) {
    super();
    const problems = CacheManagerRevocationStore.problems(cache, options);
    this.keyv = cache.stores[0] as KeyvLike;
    this.keys = revocationKeys(options.keyPrefix);
    if (problems.length === 0 && !isKeyvRedis(this.keyv.store)) {
      problems.push(
        'revocation.cache is an in-memory Keyv: pass it as revocation.cache with allowInMemoryCache (TokenGuard then uses its memory store), or use @keyv/redis',
      );
    }
    if (problems.length > 0) throw new AuthConfigError(problems);
    this.redis = this.keyv.store as KeyvRedisAdapter;
  }

  /**
   * Why a cache cannot hold revocations, if it cannot: one Keyv 5 store that throws on errors,
   * on @keyv/redis (throwing too) or, with `allowInMemory`, Keyv's own Map.
   */
  static problems(
    cache: unknown,
    {
      keyPrefix,
      allowInMemory = false,
    }: CacheManagerRevocationStoreOptions & {
      allowInMemory?: boolean;
    },
  ): string[] {
    const stores = (cache as Partial<CacheManagerLike> | undefined)?.stores;
    if (!Array.isArray(stores)) {
      return [
        `revocation.cache must be a cache-manager 7 cache (CACHE_MANAGER from @nestjs/cache-manager); it was given ${kindOf(cache)}`,
      ];
    }
    if (stores.length !== 1) {
      return [
        `revocation.cache has ${stores.length} stores; give it exactly one (layered caches answer reads from the first layer that has a value, which may not know a revocation)`,
      ];
    }
    const keyv = stores[0] as Partial<KeyvLike>;
    if (typeof keyv?.getMany !== 'function' || typeof keyv.throwOnErrors !== 'boolean') {
      return [
        `revocation.cache's store is not a Keyv 5 instance (it was given ${kindOf(keyv)}); Keyv 6 drops throwOnErrors and is not supported`,
      ];
    }
    const problems: string[] = [];
    // Keyv leaves a key that starts with its namespace unprefixed when writing one, but not when
    // reading many: writes and reads would name different keys, and revocations would be missed.
    if (keyv.namespace && keyPrefix.startsWith(`${keyv.namespace}:`)) {
      problems.push(
        `revocation.keyPrefix "${keyPrefix}" starts with the cache's Keyv namespace "${keyv.namespace}:"; choose another prefix or namespace`,
      );
    }
    if (!keyv.throwOnErrors) {
      problems.push(
        'revocation.cache\'s Keyv swallows store errors (a failed read would look like "not revoked"): create it with throwOnErrors: true',
      );
    }
    const adapter = keyv.store;
    if (isKeyvRedis(adapter)) {
      if (!adapter.throwOnErrors) {
        problems.push(
          "revocation.cache's @keyv/redis adapter swallows errors: createKeyv(url, { throwOnErrors: true, connectionTimeout })",
        );
      }
    } else if (adapter instanceof Map) {
      if (!allowInMemory) {
        problems.push(
          "revocation.cache is in this process's memory: two instances would not share revocations and a restart forgets them. Use @keyv/redis, or set revocation.allowInMemoryCache: true for a single instance",
        );
      }
    } else {
      problems.push(
        `revocation.cache's Keyv store is ${kindOf(adapter)}: TokenGuard needs @keyv/redis (shared, atomic) or Keyv's default Map (one process); an LRU store would evict live revocations`,
      );
    }
    return problems;
  }

  override describe(): string {
    const options = this.redis.client?.options;
    const where = options?.url
      ? redactUrl(options.url)
      : `${options?.socket?.host ?? '?'}:${options?.socket?.port ?? '?'}`;
    return `cache-manager on @keyv/redis at ${where}`;
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.probe();
    } catch (error) {
      if (error instanceof AuthConfigError) throw error;
      // Unreachable now: guarded requests answer 503 and the probe runs again on first use.
      this.logger.error(`${this.describe()} is not reachable yet: ${errorText(error)}`);
    }
  }

  async isRevoked(ref: TokenRef): Promise<boolean> {
    const [token, session, mark] = await this.keyv.getMany(this.keys.of(ref));
    return (
      token !== undefined ||
      session === REVOKED ||
      (mark !== undefined && ref.issuedAtMs <= Number(mark))
    );
  }

  async startSession({ sid, sub }: SessionRef, refreshJti: string, ttlMs: number): Promise<void> {
    await this.write(this.keys.session(sub, sid), refreshJti, ttlMs);
  }

  override async hasLiveSession({ sid, sub }: SessionRef): Promise<boolean> {
    const [session] = await this.keyv.getMany([this.keys.session(sub, sid)]);
    return session !== undefined && session !== REVOKED;
  }

  async revokeToken({ jti, sub }: Pick<TokenRef, 'jti' | 'sub'>, ttlMs: number): Promise<void> {
    await this.write(this.keys.token(sub, jti), true, ttlMs);
  }

  async rotate(
    token: TokenRef,
    next: Successor,
    ttlMs: number,
    graceMs: number,
  ): Promise<RotationResult> {
    const keys = this.keys.of(token);
    const args = [next.issuedAtMs, token.jti, next.jti, ttlMs, token.issuedAtMs, graceMs];
    return rotationResult(await this.script(SCRIPTS.rotate, keys, args), next);
  }

  async revokeSession({ sid, sub }: SessionRef, ttlMs: number): Promise<void> {
    const keys = [this.keys.session(sub, sid)];
    await this.script(SCRIPTS.revokeSession, keys, [Date.now(), ttlMs]);
  }

  async revokeUser(sub: string, beforeMs: number, ttlMs: number): Promise<void> {
    await this.script(SCRIPTS.revokeUser, [this.keys.user(sub)], [Date.now(), beforeMs, ttlMs]);
  }

  /** A Keyv write that must not be reported done when it was not (Keyv answers false). */
  private async write(key: string, value: unknown, ttlMs: number): Promise<void> {
    // Keyv reads a TTL of 0 or undefined as "forever" or "the cache default": never give one.
    if (!(await this.keyv.set(key, value, Math.max(1, Math.ceil(ttlMs))))) {
      throw new Error('the cache did not store the value');
    }
  }

  /** The key Keyv hands its store: with its namespace in front, unless key prefixes are off. */
  private mapKey(key: string): string {
    const { namespace, useKeyPrefix } = this.keyv;
    return namespace && useKeyPrefix !== false ? `${namespace}:${key}` : key;
  }

  private async script(lua: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    await this.probe();
    const client = await this.redis.getClient();
    const names = keys.map((key) => this.rawKey!(key));
    return client.eval(lua, { keys: names, arguments: args.map(String) });
  }

  /**
   * Finds how Keyv names keys in Redis (its namespace, the adapter's own prefix): writes a value
   * through Keyv and reads it back raw, in Keyv's envelope. Refuses to start if it cannot.
   */
  private probe(): Promise<void> {
    if (this.rawKey) return Promise.resolve();
    this.probing ??= this.runProbe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async runProbe(): Promise<void> {
    const adapter = this.redis;
    const key = `${this.options.keyPrefix}probe:${randomUUID()}`;
    const value = randomUUID();
    await this.write(key, value, 60_000);
    const client = await adapter.getClient();
    const candidates = [
      (k: string) => adapter.createKeyPrefix(k, adapter.namespace),
      (k: string) => adapter.createKeyPrefix(this.mapKey(k), adapter.namespace),
      (k: string) => k,
    ];
    for (const name of candidates) {
      const raw = await client.eval("return redis.call('GET', KEYS[1])", {
        keys: [name(key)],
        arguments: [],
      });
      if (parseEnvelope(raw)?.value === value) {
        this.rawKey = name;
        return;
      }
    }
    throw new AuthConfigError([
      "revocation.cache: a value written through its Keyv could not be found in Redis in Keyv's envelope; TokenGuard cannot make rotation atomic on it",
    ]);
  }
}

function isKeyvRedis(adapter: unknown): adapter is KeyvRedisAdapter {
  const candidate = adapter as Partial<KeyvRedisAdapter> | undefined;
  return (
    typeof candidate?.getClient === 'function' && typeof candidate.createKeyPrefix === 'function'
  );
}

function parseEnvelope(raw: unknown): { value: unknown; expires?: number } | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed = JSON.parse(raw) as { value?: unknown; expires?: unknown };
    if (typeof parsed !== 'object' || parsed === null || !('value' in parsed)) return undefined;
    return {
      value: parsed.value,
      ...(typeof parsed.expires === 'number' && { expires: parsed.expires }),
    };
  } catch {
    return undefined;
  }
}

/** A Redis URL without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an unparsable URL';
  }
}

const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
