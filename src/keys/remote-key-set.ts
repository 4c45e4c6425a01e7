import { HttpStatus, Logger } from '@nestjs/common';
import type { JsonWebKey } from 'node:crypto';
import {
  SUPPORTED_ALGORITHMS,
  type JwtAlgorithm,
  type RemoteJwksOptions,
} from '../auth-options.interface';
import type { Clock } from '../common/clock';
import { AuthError, isAuthError } from '../errors/auth.errors';
import { buildKeyRing, EC_CURVES, KeyRing, type RingKey } from './key-ring';

/** A JWKS larger than this is not a key set: refused before it is parsed. */
const MAX_JWKS_BYTES = 512 * 1024;
/** A fetched set is used this long when its response says nothing (Cache-Control max-age). */
const DEFAULT_MAX_AGE_SECONDS = 300;

/**
 * The keys of a resource server: the auth service's JWKS, fetched from the one configured URL.
 *
 * Written here rather than taken from jose's `createRemoteJWKSet` (or jwks-rsa), measured (README,
 * "Resource servers"): jose refuses a key it had once its cache age has passed and the refresh
 * fails, so an auth service that is down takes every resource server down with it; after its
 * cooldown, a failed fetch does not restart it, so 100 made-up `kid`s cost 100 fetches during
 * that outage; and it does not read `Cache-Control`. The rules here:
 * - at most one fetch per `refetchIntervalSeconds`, whatever asks (an unknown `kid`, an aged set,
 *   a failure); concurrent askers share the fetch in flight;
 * - a set is used for its `Cache-Control: max-age` (else 300 s) within the configured bounds, then
 *   refreshed in the background while it keeps answering;
 * - a failed fetch (timeout, status, body) keeps the keys there are; with none, 503
 *   `AUTH_KEYS_UNAVAILABLE`;
 * - redirects are refused and a token's `jku`/`x5u` never read (TokenVerifier refuses them):
 *   only the configured URL is fetched;
 * - each key is imported by the key ring's own rules (public keys only, its algorithm pinned,
 *   RSA of 2048 bits or more, the right curve); a key that breaks them is left out and logged.
 */
export class RemoteKeySet {
  private readonly logger = new Logger('RemoteKeySet');
  private ring?: KeyRing;
  /** Until when the set in hand is fresh, ms. */
  private freshUntil = 0;
  /** When the last fetch started, ms. */
  private lastFetch = Number.NEGATIVE_INFINITY;
  private inFlight?: Promise<void>;
  private readonly retireListeners: (() => void)[] = [];
  /** The next fetch in the background: when the set ages, or a retry after a failure. */
  private timer?: NodeJS.Timeout;
  /** Aborts a fetch in flight when the module closes. */
  private readonly closing = new AbortController();

  constructor(
    private readonly options: Required<RemoteJwksOptions>,
    private readonly clock: Clock,
  ) {}

  /** The algorithms a remote key may use: the asymmetric ones (an HMAC secret is never published). */
  static readonly ALGORITHMS: JwtAlgorithm[] = SUPPORTED_ALGORITHMS.filter(
    (alg) => !alg.startsWith('HS'),
  );

  /**
   * Calls `listener` when a new set drops a key the last one had: tokens verified with it before
   * (the verified-token cache) must be verified again.
   */
  onRetire(listener: () => void): void {
    this.retireListeners.push(listener);
  }

  /** Fetches the set now unless one was fetched within the interval; never throws. */
  refresh(): Promise<void> {
    return this.fetchOnce() ?? Promise.resolve();
  }

  /** The key a token header names: from the set in hand, else after one fetch allowed now. */
  async resolve(header: Record<string, unknown>): Promise<RingKey> {
    if (this.clock.now() >= this.freshUntil) {
      const fetching = this.fetchOnce();
      // An aged set keeps answering while the next one comes; no set at all has to wait.
      if (!this.ring && fetching) await fetching;
    }
    const ring = this.ring;
    if (!ring) throw keysUnavailable();
    try {
      return ring.resolve(header);
    } catch (error) {
      // A kid the set does not know: a new key the auth service signs with, or made up. (A new
      // key may bring an algorithm the set had none of: the ring refuses that before the kid.)
      const unknown =
        isAuthError(error) &&
        (error.code === 'AUTH_TOKEN_KEY_UNKNOWN' ||
          (error.code === 'AUTH_TOKEN_ALGORITHM_REFUSED' &&
            !ring.find(header.kid) &&
            (RemoteKeySet.ALGORITHMS as unknown[]).includes(header.alg)));
      if (!unknown) throw error;
      const fetching = this.fetchOnce();
      if (!fetching) throw error;
      await fetching;
      return (this.ring ?? ring).resolve(header);
    }
  }

  /** A fetch, unless one ran within the interval: then undefined (or the one in flight). */
  private fetchOnce(): Promise<void> | undefined {
    if (this.inFlight) return this.inFlight;
    const now = this.clock.now();
    // A clock that went back counts as time passed: never a set that can no longer be refreshed.
    const since = now - this.lastFetch;
    if (since >= 0 && since < this.options.refetchIntervalSeconds * 1000) return undefined;
    this.lastFetch = now;
    const { refetchIntervalSeconds, uri } = this.options;
    this.inFlight = this.fetchSet()
      .then(
        ({ ring, maxAgeSeconds }) => {
          // Retired: a kid gone, or the same kid now naming another key or algorithm.
          const retired = this.ring?.keys.some((old) => {
            const next = ring.find(old.kid);
            return (
              !next || next.alg !== old.alg || !next.verificationKey.equals(old.verificationKey)
            );
          });
          this.ring = ring;
          this.freshUntil = this.clock.now() + maxAgeSeconds * 1000;
          this.schedule(maxAgeSeconds);
          if (retired) for (const listener of this.retireListeners) this.call(listener);
        },
        (error: unknown) => {
          const kept = this.ring ? 'keeping the keys fetched before' : 'no keys to verify with';
          this.logger.warn(
            `${uri} could not be fetched (${error instanceof Error ? error.message : String(error)}): ${kept}`,
          );
          this.schedule(refetchIntervalSeconds);
        },
      )
      // Nobody awaits a background fetch: whatever went wrong above is logged, never thrown.
      .catch((error: unknown) => this.logger.error(`refreshing the keys failed: ${String(error)}`))
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /**
   * Fetches again in `seconds` whether or not a request asks: tokens the verified-token cache
   * knows never look a key up, and a retired key must still reach them.
   */
  private schedule(seconds: number): void {
    clearTimeout(this.timer);
    if (this.closing.signal.aborted) return;
    this.timer = setTimeout(() => {
      // Too early for the interval (a short max-age, a timer that fires early): try again then.
      if (this.fetchOnce()) return;
      const wait = this.lastFetch + this.options.refetchIntervalSeconds * 1000 - this.clock.now();
      this.schedule(Math.max(wait, 1) / 1000);
    }, seconds * 1000).unref();
  }

  /** Stops the background fetches and the one in flight (the module is closing). */
  close(): void {
    this.closing.abort();
    clearTimeout(this.timer);
  }

  /** A retire listener: one that throws is logged, and the others still run. */
  private call(listener: () => void): void {
    try {
      listener();
    } catch (error) {
      this.logger.error(`a retire listener failed: ${String(error)}`);
    }
  }

  private async fetchSet(): Promise<{ ring: KeyRing; maxAgeSeconds: number }> {
    const response = await fetch(this.options.uri, {
      redirect: 'error',
      signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.closing.signal]),
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (response.status !== 200) throw new Error(`answered ${response.status}`);
    const text = await boundedText(response, MAX_JWKS_BYTES);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new Error('the answer is not JSON');
    }
    const ring = this.importKeys(document);
    return { ring, maxAgeSeconds: this.maxAge(response.headers.get('cache-control')) };
  }

  /** The usable keys of a JWKS document as a verify-only ring; one bad key does not sink the rest. */
  private importKeys(document: unknown): KeyRing {
    const jwks = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(jwks)) throw new Error('the answer is not a JWKS ({"keys": [...]})');
    const keys: RingKey[] = [];
    const skipped: string[] = [];
    for (const [index, jwk] of jwks.entries()) {
      const entry = jwk as (JsonWebKey & { kid?: unknown; alg?: unknown; use?: unknown }) | null;
      if (typeof entry !== 'object' || entry === null || entry.use === 'enc') continue;
      const alg = algorithmOf(entry);
      const problems: string[] = [];
      const ring =
        alg && typeof entry.kid === 'string'
          ? buildKeyRing(
              { keys: [{ alg, kid: entry.kid, publicKey: entry }], verifyOnly: true },
              problems,
            )
          : undefined;
      if (ring?.keys[0] && !keys.some((key) => key.kid === ring.keys[0]!.kid))
        keys.push(ring.keys[0]);
      else
        skipped.push(
          `keys[${index}]: ${problems[0] ?? 'needs a kid, and an alg TokenGuard verifies'}`,
        );
    }
    if (skipped.length > 0) this.logger.warn(`${this.options.uri}: left out ${skipped.join('; ')}`);
    if (keys.length === 0) throw new Error('the key set holds no usable key');
    return new KeyRing(keys, undefined);
  }

  /** The response's max-age, within the configured bounds; `no-store`/`no-cache` is the lower bound. */
  private maxAge(cacheControl: string | null): number {
    const { minCacheSeconds, maxCacheSeconds } = this.options;
    const directives = (cacheControl ?? '').toLowerCase();
    const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/.exec(directives)?.[1];
    const seconds = /(?:^|,)\s*no-(?:store|cache)\s*(?:,|=|$)/.test(directives)
      ? 0
      : maxAge !== undefined
        ? Number(maxAge)
        : DEFAULT_MAX_AGE_SECONDS;
    return Math.min(maxCacheSeconds, Math.max(minCacheSeconds, seconds));
  }
}

/** A JWK's algorithm: its `alg` when TokenGuard verifies it, else the one its curve allows. */
function algorithmOf(jwk: JsonWebKey & { alg?: unknown }): JwtAlgorithm | undefined {
  if (typeof jwk.alg === 'string') {
    return (RemoteKeySet.ALGORITHMS as string[]).includes(jwk.alg)
      ? (jwk.alg as JwtAlgorithm)
      : undefined;
  }
  // Without alg an RSA key could be any of six: only an EC key's curve names its algorithm.
  const curves: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
  const alg = jwk.kty === 'EC' ? curves[String(jwk.crv)] : undefined;
  return alg && alg in EC_CURVES ? (alg as JwtAlgorithm) : undefined;
}

/** The body as text, refused past `maxBytes` as it streams in (a chunked answer has no length). */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes)
    throw new Error('the key set is too large');
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of response.body ?? []) {
    bytes += (chunk as Uint8Array).byteLength;
    if (bytes > maxBytes) throw new Error('the key set is too large');
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const keysUnavailable = (): AuthError =>
  new AuthError(
    'AUTH_KEYS_UNAVAILABLE',
    HttpStatus.SERVICE_UNAVAILABLE,
    'The keys that verify tokens are not available yet; try again shortly',
  );
