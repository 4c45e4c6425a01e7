import { HttpStatus } from '@nestjs/common';
import { AuthError } from '../errors/auth.errors';

/**
 * Awaits a store call, bounded by `timeoutMs` unless the store bounds its own calls (a timer per
 * call costs on the hot path); a failure or a timeout becomes 503 AUTH_STORE_UNAVAILABLE.
 */
export async function storeCall<T>(
  operation: () => Promise<T>,
  timeoutMs: number,
  boundsItsCalls: boolean,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    // Called inside the try: a store that throws synchronously is an outage too, not a 500.
    if (boundsItsCalls) return await operation();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('store timeout')), timeoutMs);
    });
    return await Promise.race([operation(), timeout]);
  } catch (cause) {
    throw new AuthError(
      'AUTH_STORE_UNAVAILABLE',
      HttpStatus.SERVICE_UNAVAILABLE,
      'The session store is unavailable; try again shortly',
      { cause },
    );
  } finally {
    clearTimeout(timer);
  }
}
