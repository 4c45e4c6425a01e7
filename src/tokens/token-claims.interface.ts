/** What the app knows about a user: the subject, its roles, and anything else it wants to carry. */
export interface AuthUser {
  sub: string;
  roles: readonly string[];
  [field: string]: unknown;
}

export type TokenUse = 'access' | 'refresh';

/** Claims every TokenGuard token carries; all are checked on every verification. */
export interface TokenClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
  /** Unique token id, 128 random bits. */
  jti: string;
  /** The login session: shared by every token issued from one login. */
  sid: string;
  /** Told apart again by the `typ` header, so a refresh token cannot pass for an access token. */
  token_use: TokenUse;
  roles: string[];
  /** When the user logged in (epoch seconds): sliding renewal stops at this plus the session's max age. */
  auth_time?: number;
  /**
   * When the token was issued, in epoch milliseconds (TokenGuard's tokens carry it; `iat` is whole
   * seconds, which every JWT library compares without surprise): orders the token against a
   * "logout everywhere" in the same second.
   */
  iat_ms?: number;
  [claim: string]: unknown;
}

/** The verified caller, set as `request.user` by JwtAuthGuard and handed out by `@CurrentUser()`. */
export interface AuthPrincipal {
  sub: string;
  sid: string;
  jti: string;
  /** The user's current roles when `findUser` is configured, else the token's. */
  roles: readonly string[];
  claims: TokenClaims;
  /** What `findUser` returned, when configured. */
  user?: AuthUser;
}

/** What login and refresh return (RFC 6749 section 5.1 names). */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  /** Access token lifetime in seconds. */
  expires_in: number;
}

/** Claims only TokenGuard sets: an `additionalClaims` hook cannot override them. */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'aud',
  'sub',
  'iat',
  'nbf',
  'exp',
  'jti',
  'sid',
  'token_use',
  'roles',
  'auth_time',
  'iat_ms',
]);
