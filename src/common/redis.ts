import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';

/**
 * A connection that fails fast instead of queueing while Redis is away (no offline queue, a
 * command timeout), so callers can refuse with 503; it reconnects by itself when Redis is back.
 */
export function openRedis(url: string, timeoutMs: number): Redis {
  // Loaded here, not at the top: ioredis is an optional peer, needed only with a Redis URL.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Redis: RedisClient } = require('ioredis') as typeof IORedis;
  const client = new RedisClient(url, {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  // Without a listener ioredis prints every failed reconnect; callers report outages per request.
  client.on('error', () => undefined);
  return client;
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
