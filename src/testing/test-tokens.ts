import type { INestApplicationContext } from '@nestjs/common';
import { decode } from 'jsonwebtoken';
import type { AuthUser } from '../auth-options.interface';
import { RevocationService } from '../revocation/revocation.service';
import { AuthService, OPEN_SESSION } from '../session/auth.service';
import type { TokenClaims, TokenPair } from '../tokens/token-claims.interface';
import { TokenIssuer } from '../tokens/token-issuer';

export interface TestTokenOptions {
  /** A lifetime for the access token shorter than the configured one, in seconds. */
  expiresInSeconds?: number;
}

/**
 * Tokens for test users without a password, minted by the app's own TokenGuard (its keys,
 * issuer, audience, lifetimes, `additionalClaims`), so they pass the real guard. Each one opens a
 * real session in the configured store: refresh, logout and revocation work on it as on any
 * other, and it is audited as a login.
 */
export class TestTokens {
  private constructor(
    private readonly auth: AuthService,
    private readonly issuer: TokenIssuer,
    private readonly revocation: RevocationService,
  ) {}

  /** The kit for an app, or a compiled TestingModule, that imports AuthModule. */
  static of(app: Pick<INestApplicationContext, 'get'>): TestTokens {
    // Sessions without a password belong in tests, never in a running service.
    if (process.env.NODE_ENV === 'production') {
      throw new Error('TestTokens is for tests: it does not run with NODE_ENV=production');
    }
    const find = <T>(type: abstract new (...args: never[]) => T): T =>
      app.get(type, { strict: false });
    return new TestTokens(find(AuthService), find(TokenIssuer), find(RevocationService));
  }

  /** A new session for `user` (`{ sub, roles }`): the pair a login would return. */
  login(user: AuthUser): Promise<TokenPair> {
    return this.auth[OPEN_SESSION](user);
  }

  /** An access token for `user` in a new session. */
  async accessToken(user: AuthUser, { expiresInSeconds }: TestTokenOptions = {}): Promise<string> {
    const pair = await this.login(user);
    if (expiresInSeconds === undefined) return pair.access_token;
    return this.issuer.access(user, claimsOf(pair.access_token), expiresInSeconds).token;
  }

  /** `Authorization` header value for `user`: `Bearer <access token>`. */
  async authorization(user: AuthUser, options?: TestTokenOptions): Promise<string> {
    return `Bearer ${await this.accessToken(user, options)}`;
  }

  /** Ends the session of a token (access or refresh), as its logout would. */
  revokeSession(token: string): Promise<void> {
    return this.revocation.revokeSession(claimsOf(token));
  }

  /** Ends every session of a user, as a logout everywhere would. */
  revokeUser(sub: string): Promise<void> {
    return this.revocation.revokeUser(sub);
  }
}

/** The claims of a token this kit or the app issued (read, not verified: it is the test's own). */
function claimsOf(token: string): TokenClaims {
  const claims = decode(token, { json: true });
  if (!claims || typeof claims.sid !== 'string') {
    throw new TypeError('TestTokens: not a token TokenGuard issued');
  }
  return claims as TokenClaims;
}
