import type * as IORedis from 'ioredis';
import type { Cluster, Redis } from 'ioredis';
import type {
  RedisClusterOptions,
  RedisConnection,
  RedisSentinelOptions,
} from '../auth-options.interface';

/** A connection to one Redis (or a Sentinel's master), or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Whether `value` is a Sentinel configuration (not a URL, not a client). */
export const isSentinelConfig = (value: unknown): value is RedisSentinelOptions =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as RedisSentinelOptions).sentinels) &&
  typeof (value as RedisSentinelOptions).name === 'string';

/** Whether `value` is a Cluster configuration (not a client). */
export const isClusterConfig = (value: unknown): value is RedisClusterOptions =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as RedisClusterOptions).nodes) &&
  !isClient(value);

/** An ioredis `Redis` or `Cluster` (duck-typed: the app may hold another copy of ioredis). */
export const isClient = (value: unknown): value is RedisClient =>
  typeof (value as { defineCommand?: unknown } | null)?.defineCommand === 'function' &&
  typeof (value as { mget?: unknown }).mget === 'function';

export const isCluster = (client: RedisClient): client is Cluster =>
  (client as { isCluster?: boolean }).isCluster === true;

/**
 * The client for a store: opened here for a URL, a Sentinel or a Cluster configuration (`owned`:
 * the store closes it), or the app's own client as it is. `bounded`: every call settles within
 * `timeoutMs` by itself (a client opened here on one node or a Sentinel's master; a Cluster
 * retries redirections and CLUSTERDOWN past a command's own timeout, so its calls get a timer).
 */
export function connectRedis(
  target: RedisConnection,
  timeoutMs: number,
): { client: RedisClient; owned: boolean; bounded: boolean } {
  if (isClusterConfig(target))
    return { client: openCluster(target, timeoutMs), owned: true, bounded: false };
  if (typeof target !== 'string' && !isSentinelConfig(target))
    return { client: target, owned: false, bounded: false };
  return { client: openRedis(target, timeoutMs), owned: true, bounded: true };
}

/**
 * A Cluster connection that fails fast while the cluster cannot answer (no offline queue, a
 * command timeout on every node), follows MOVED and failovers by itself, and pipelines the
 * commands of one tick per node.
 */
function openCluster(target: RedisClusterOptions, timeoutMs: number): Cluster {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Cluster: ClusterClient } = require('ioredis') as typeof IORedis;
  const client = new ClusterClient(target.nodes, {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    clusterRetryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
    slotsRefreshTimeout: Math.max(timeoutMs, 1000),
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    redisOptions: {
      username: target.username,
      password: target.password,
      tls: target.tls,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      maxRetriesPerRequest: 0,
    },
  });
  client.on('error', () => undefined);
  return client;
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
    // No auto-pipelining on one node: the per-request checks are batched already (MgetBatch),
    // and ioredis would wrap each of those MGETs in a pipeline of one (about 3 us a request).
    enableAutoPipelining: false,
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
export async function closeRedis(client: RedisClient): Promise<void> {
  await client.quit().catch(() => undefined);
  client.disconnect();
}

/** How a store names its Redis in the start-up log (no password). */
export function describeRedis(client: RedisClient): string {
  if (isCluster(client)) {
    const masters = client.nodes('master').map(({ options }) => `${options.host}:${options.port}`);
    return `Redis Cluster${masters.length > 0 ? ` of masters ${masters.join(', ')}` : ''}`;
  }
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
export async function whenReady(client: RedisClient): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
