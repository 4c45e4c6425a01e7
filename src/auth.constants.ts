/** Defaults from the production configuration the seeds recommend. */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const DEFAULT_REFRESH_TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
/** Verified tokens remembered so a repeat skips only the signature check. */
export const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 10_000;
/** How often open sockets and subscriptions are checked again. */
export const DEFAULT_CONNECTION_RECHECK_SECONDS = 5;
/** The refresh cookie's path. */
export const DEFAULT_REFRESH_PATH = '/auth/refresh';
/**
 * A refresh token presented again within 30 s of its rotation gets the same successor: long
 * enough for a client to retry after a store outage of twenty-odd seconds (503, Retry-After: 1)
 * or a lost response, short enough that a thief must replay it within half a minute of the
 * rightful client, and then shares one successor with it, so the next rotation exposes them.
 */
export const DEFAULT_REFRESH_GRACE_SECONDS = 30;
/** OWASP: an absolute session timeout, whatever the activity. */
export const DEFAULT_SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;

/** Response header carrying a renewed access token. */
export const NEW_TOKEN_HEADER = 'X-New-Token';

/** `typ` headers: RFC 9068 names access tokens; refresh tokens get their own so one cannot pass for the other. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const REFRESH_TOKEN_TYP = 'rt+jwt';

/** Tokens longer than this are refused before any parsing or crypto. */
export const MAX_TOKEN_LENGTH = 8192;

/** Revocation store defaults. */
export const DEFAULT_REVOCATION_KEY_PREFIX = 'tokenguard:';
export const DEFAULT_REVOCATION_TIMEOUT_MS = 300;

/** 128 bits of randomness for every `jti` and `sid`. */
export const RANDOM_ID_BYTES = 16;

/** Per client: the seed's 5 logins a minute, and a ceiling for everything else. */
export const DEFAULT_LOGIN_RATE_LIMIT = { limit: 5, ttlSeconds: 60 };
/** Per client, across every `@RefreshEndpoint()`: a client refreshes once per access lifetime. */
export const DEFAULT_REFRESH_RATE_LIMIT = { limit: 120, ttlSeconds: 60 };
/** 5 failures in 15 minutes lock a username for 1 minute, then 2, 4, ... up to 15. */
export const DEFAULT_LOCKOUT = {
  maxFailures: 5,
  windowSeconds: 15 * 60,
  lockSeconds: 60,
  maxLockSeconds: 15 * 60,
};
