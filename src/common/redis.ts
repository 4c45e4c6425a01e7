import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import type { RedisConnection, RedisSentinelOptions } from '../auth-options.interface';

/** Whether `value` is a Sentinel configuration (not a URL, not a client). */
export const isSentinelConfig = (value: unknown): value is RedisSentinelOptions =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as RedisSentinelOptions).sentinels) &&
  typeof (value as RedisSentinelOptions).name === 'string';

/**
 * The client for a store: opened here for a URL or a Sentinel configuration (`owned`: the store
 * closes it, and it bounds its own calls), or the app's own client as it is.
 */
export function connectRedis(
  target: RedisConnection,
  timeoutMs: number,
): { client: Redis; owned: boolean } {
  if (typeof target !== 'string' && !isSentinelConfig(target))
    return { client: target, owned: false };
  return { client: openRedis(target, timeoutMs), owned: true };
}

/**
 * A connection that fails fast instead of queueing while Redis is away (no offline queue, a
 * command timeout), so callers can refuse with 503; it reconnects by itself when Redis is back,
 * behind Sentinel to whichever server the sentinels name master then.
 */
function openRedis(target: string | RedisSentinelOptions, timeoutMs: number): Redis {
  // Loaded here, not at the top: ioredis is an optional peer, needed only with Redis.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Redis: RedisClient } = require('ioredis') as typeof IORedis;
  const retryStrategy = (attempt: number) => Math.min(attempt * 100, 1000);
  const options: IORedis.RedisOptions = {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    maxRetriesPerRequest: 0,
    retryStrategy,
  };
  const client =
    typeof target === 'string'
      ? new RedisClient(target, options)
      : new RedisClient({
          ...options,
          sentinels: target.sentinels,
          name: target.name,
          password: target.password,
          sentinelPassword: target.sentinelPassword,
          db: target.db,
          sentinelRetryStrategy: retryStrategy,
          // Follows a failover as soon as the sentinels announce it, not at the next error.
          failoverDetector: true,
        });
  // Without a listener ioredis prints every failed reconnect; callers report outages per request.
  client.on('error', () => undefined);
  return client;
}

/**
 * Closes a connection this library opened: QUIT (replies still due arrive first), then a
 * disconnect, which also ends a Sentinel client's watch on the sentinels (QUIT leaves it open,
 * and the process with it).
 */
export async function closeRedis(client: Redis): Promise<void> {
  await client.quit().catch(() => undefined);
  client.disconnect();
}

/** How a store names its Redis in the start-up log (no password). */
export function describeRedis(client: Redis): string {
  const { host, port, db, path, sentinels, name } = client.options;
  if (sentinels?.length) {
    const addresses = sentinels.map((s) => `${s.host ?? '127.0.0.1'}:${s.port ?? 26379}`);
    return `Redis master "${name}" via Sentinel at ${addresses.join(', ')} db ${db ?? 0}`;
  }
  return `Redis at ${path ?? `${host}:${port}`} db ${db ?? 0}`;
}

/**
 * Waits (5 s at most) for the first connection, so the app does not start by refusing
 * everything; resolves false if Redis is not there yet (the client keeps trying).
 */
export async function whenReady(client: Redis): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
