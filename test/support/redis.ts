import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** `describe` for suites that need Redis: skipped, with the reason, when none answers outside CI. */
export const describeWithRedis: jest.Describe = (() => {
  const reason = process.env.TOKENGUARD_REDIS_SKIP;
  if (!reason) return describe;
  console.warn(`Skipping Redis suites: ${reason}`);
  return describe.skip;
})();

/** A key prefix of the test's own, so tests sharing one Redis never see each other's keys. */
export const testPrefix = (): string => `tokenguard-test:${randomUUID()}:`;

/** Deletes every key under `prefix`. */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const client = new Redis(url);
  try {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
  } finally {
    client.disconnect();
  }
}
