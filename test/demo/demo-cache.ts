import { createKeyv } from '@keyv/redis';
import { CacheModule, type Cache } from '@nestjs/cache-manager';
import type { DynamicModule } from '@nestjs/common';
import { Keyv } from 'keyv';
import { RedisRateLimitStore, type AuthModuleOptions } from '../../src/index';
import type { DemoConfig } from './demo-config';

/**
 * `REVOCATION_STORE=cache-manager`: the app's own cache (@nestjs/cache-manager) holds the
 * revocations, on @keyv/redis with `REDIS_URL` or on an in-memory Keyv without. Either way the
 * Keyv throws on errors, and the Redis client fails fast instead of queueing while Redis is away.
 */
export function demoCacheModule({ redisUrl, auth }: DemoConfig): DynamicModule {
  const timeoutMs = auth.revocation?.timeoutMs ?? 300;
  const keyv = redisUrl
    ? createKeyv(
        {
          url: redisUrl,
          disableOfflineQueue: true,
          socket: {
            connectTimeout: Math.max(timeoutMs, 1000),
            reconnectStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
          },
        },
        { throwOnErrors: true, connectionTimeout: Math.max(timeoutMs, 1000) },
      )
    : new Keyv({ throwOnErrors: true });
  // keyv resolves to its CommonJS types here and to its ES ones in @nestjs/cache-manager.
  return CacheModule.register({ stores: [keyv as never] });
}

/** The AuthModule options that put revocations (and, with Redis, rate limits) on that cache. */
export function cacheRevocation(
  { redisUrl, auth }: DemoConfig,
  cache: Cache,
): Partial<AuthModuleOptions> {
  const revocation = { ...auth.revocation, redis: undefined };
  return {
    revocation: { ...revocation, cache, allowInMemoryCache: !redisUrl },
    // Rate-limit counters are no cache entries (they need an atomic count): Redis of their own.
    ...(redisUrl && {
      rateLimit: {
        ...auth.rateLimit,
        store: new RedisRateLimitStore(
          redisUrl,
          revocation.keyPrefix ?? 'tokenguard:',
          revocation.timeoutMs ?? 300,
        ),
      },
    }),
  };
}
