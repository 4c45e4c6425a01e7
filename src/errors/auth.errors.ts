import { HttpException, HttpStatus } from '@nestjs/common';

/** Stable error codes: clients switch on these, so they are never renamed in a minor release. */
export type AuthErrorCode =
  | 'AUTH_TOKEN_MISSING'
  | 'AUTH_TOKEN_TOO_LARGE'
  | 'AUTH_TOKEN_MALFORMED'
  | 'AUTH_TOKEN_ALGORITHM_REFUSED'
  | 'AUTH_TOKEN_KEY_UNKNOWN'
  | 'AUTH_TOKEN_HEADER_REFUSED'
  | 'AUTH_TOKEN_SIGNATURE_INVALID'
  | 'AUTH_TOKEN_EXPIRED'
  | 'AUTH_TOKEN_NOT_YET_VALID'
  | 'AUTH_TOKEN_ISSUED_IN_FUTURE'
  | 'AUTH_TOKEN_WRONG_TYPE'
  | 'AUTH_TOKEN_ISSUER_INVALID'
  | 'AUTH_TOKEN_AUDIENCE_INVALID'
  | 'AUTH_TOKEN_CLAIMS_INVALID'
  | 'AUTH_TOKEN_REVOKED'
  | 'AUTH_SESSION_EXPIRED'
  | 'AUTH_REFRESH_REUSED'
  | 'AUTH_STORE_UNAVAILABLE'
  | 'AUTH_KEYS_UNAVAILABLE'
  | 'AUTH_USER_INACTIVE'
  | 'AUTH_TOKEN_REFUSED'
  | 'AUTH_INVALID_CREDENTIALS'
  | 'AUTH_LOGIN_LOCKED'
  | 'AUTH_RATE_LIMITED'
  | 'AUTH_ROLE_REQUIRED'
  | 'AUTH_CSRF_INVALID'
  | 'AUTH_ORIGIN_REFUSED'
  | 'AUTH_CONTEXT_UNSUPPORTED'
  | 'AUTH_REQUEST_INVALID';

/** Body of every TokenGuard error response. */
export interface AuthErrorBody {
  statusCode: number;
  code: AuthErrorCode;
  message: string;
  [extra: string]: unknown;
}

/**
 * A request-time failure with a stable `code`. The message says what is wrong and never
 * contains a token, a secret or a payload; the original error is kept as `cause` only.
 */
export class AuthError extends HttpException {
  /** Survives two copies of the package being installed, where `instanceof` does not. */
  readonly isAuthError = true;

  constructor(
    readonly code: AuthErrorCode,
    status: number,
    message: string,
    options: { cause?: unknown; extra?: Record<string, unknown> } = {},
  ) {
    super({ ...options.extra, statusCode: status, code, message } satisfies AuthErrorBody, status, {
      cause: options.cause,
    });
    this.name = new.target.name;
  }
}

/** A 401 caused by the bearer token: answered with `WWW-Authenticate` per RFC 6750. */
export class InvalidTokenError extends AuthError {
  constructor(code: AuthErrorCode, message: string, cause?: unknown) {
    super(code, HttpStatus.UNAUTHORIZED, message, { cause });
  }
}

/** A 429: the exception filter turns `retryAfterSeconds` into the `Retry-After` header. */
export class TooManyRequestsError extends AuthError {
  constructor(code: 'AUTH_RATE_LIMITED' | 'AUTH_LOGIN_LOCKED', what: string, waitMs: number) {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    super(code, HttpStatus.TOO_MANY_REQUESTS, `${what}; try again in ${seconds} s`, {
      extra: { retryAfterSeconds: seconds },
    });
  }
}

export const isAuthError = (error: unknown): error is AuthError =>
  typeof error === 'object' && error !== null && (error as AuthError).isAuthError === true;

/** Thrown once at start-up, listing every problem found in the module options. */
export class AuthConfigError extends Error {
  declare readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid AuthModule options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AuthConfigError';
    // Printed once, as the message alone: no stack (the options are the app's, not a bug in the
    // code that read them), and the list kept out of the enumerable fields a logger prints again.
    this.stack = `${this.name}: ${this.message}`;
    Object.defineProperty(this, 'problems', { value: problems, enumerable: false });
  }
}
