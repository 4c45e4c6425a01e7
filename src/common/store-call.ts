import { HttpStatus } from '@nestjs/common';
import { AuthError } from '../errors/auth.errors';

/**
 * Awaits a store call, bounded by `timeoutMs` unless the store bounds its own calls (a timer per
 * call costs on the hot path); a failure or a timeout becomes 503 AUTH_STORE_UNAVAILABLE.
 */
export function storeCall<T>(
  operation: () => Promise<T>,
  timeoutMs: number,
  boundsItsCalls: boolean,
): Promise<T> {
  if (!boundsItsCalls) return timed(operation, timeoutMs);
  // No async wrapper on the path every guarded request takes: one promise fewer to settle.
  try {
    return operation().catch((cause: unknown) => {
      throw unavailable(cause);
    });
  } catch (cause) {
    // A store that throws synchronously is an outage too, not a 500.
    return Promise.reject(unavailable(cause));
  }
}

async function timed<T>(operation: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('store timeout')), timeoutMs);
    });
    return await Promise.race([operation(), timeout]);
  } catch (cause) {
    throw unavailable(cause);
  } finally {
    clearTimeout(timer);
  }
}

const unavailable = (cause: unknown): AuthError =>
  new AuthError(
    'AUTH_STORE_UNAVAILABLE',
    HttpStatus.SERVICE_UNAVAILABLE,
    'The session store is unavailable; try again shortly',
    { cause },
  );
