import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomBytes } from 'node:crypto';
import { ACCESS_TOKEN_TYP, RANDOM_ID_BYTES, REFRESH_TOKEN_TYP } from '../auth.constants';
import type { AuthUser } from '../auth-options.interface';
import { AuthConfig } from '../auth-options.validate';
import { epochSeconds } from '../common/clock';
import { AuthConfigError, AuthError, InvalidTokenError } from '../errors/auth.errors';
import {
  RESERVED_CLAIMS,
  type AuthPrincipal,
  type TokenClaims,
  type TokenPair,
  type TokenUse,
} from './token-claims.interface';
import { TokenVerifier } from './token.verifier';

export const randomId = (): string => randomBytes(RANDOM_ID_BYTES).toString('base64url');

/** Issues, refreshes and ends sessions. */
@Injectable()
export class AuthService {
  constructor(
    private readonly config: AuthConfig,
    private readonly jwt: JwtService,
    private readonly verifier: TokenVerifier,
  ) {}

  /** Checks credentials through `validateCredentials` and opens a new session. */
  async login(username: string, password: string): Promise<TokenPair> {
    const { validateCredentials } = this.config.options;
    if (!validateCredentials)
      throw new AuthConfigError(['validateCredentials is required to log in']);
    const user = await validateCredentials(username, password);
    // One answer for an unknown user and a wrong password, so neither can be told apart.
    if (!user) throw new AuthError('AUTH_INVALID_CREDENTIALS', 401, 'Invalid username or password');
    return this.issuePair(user, randomId());
  }

  /** Exchanges a refresh token for a new pair in the same session, with the user's current roles. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const claims = this.verifier.verify(refreshToken, 'refresh');
    const user = await this.currentUser(claims);
    return this.issuePair(user, claims.sid);
  }

  /**
   * Ends the session of `principal`. Until revocation lands (issue #3) tokens stay valid until
   * they expire; this is the seam the revocation store plugs into.
   */
  logout(_principal: AuthPrincipal): Promise<void> {
    return Promise.resolve();
  }

  /** Ends every session of the principal's user (seam for issue #3, as `logout`). */
  logoutAll(_principal: AuthPrincipal): Promise<void> {
    return Promise.resolve();
  }

  /** Signs an access/refresh pair for `user` in session `sid`. */
  issuePair(user: AuthUser, sid: string): TokenPair {
    const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = this.config;
    return {
      access_token: this.sign('access', user, sid, accessTokenTtlSeconds),
      refresh_token: this.sign('refresh', user, sid, refreshTokenTtlSeconds),
      token_type: 'Bearer',
      expires_in: accessTokenTtlSeconds,
    };
  }

  private sign(use: TokenUse, user: AuthUser, sid: string, ttlSeconds: number): string {
    const now = epochSeconds(this.config.clock);
    const custom = use === 'access' ? this.customClaims(user) : {};
    const claims: TokenClaims = {
      ...custom,
      iss: this.config.issuer,
      aud: this.config.audience,
      sub: user.sub,
      iat: now,
      nbf: now,
      exp: now + ttlSeconds,
      jti: randomId(),
      sid,
      token_use: use,
      roles: [...user.roles],
    };
    const { key } = this.config;
    return this.jwt.sign(claims, {
      algorithm: key.alg,
      secret: key.signingKey as unknown as string,
      header: {
        alg: key.alg,
        typ: use === 'access' ? ACCESS_TOKEN_TYP : REFRESH_TOKEN_TYP,
        kid: key.kid,
      },
    });
  }

  private customClaims(user: AuthUser): Record<string, unknown> {
    const extra = this.config.options.additionalClaims?.(user) ?? {};
    return Object.fromEntries(Object.entries(extra).filter(([name]) => !RESERVED_CLAIMS.has(name)));
  }

  private async currentUser(claims: TokenClaims): Promise<AuthUser> {
    const { findUser } = this.config.options;
    if (!findUser) return { sub: claims.sub, roles: claims.roles };
    const user = await findUser(claims.sub);
    if (!user)
      throw new InvalidTokenError(
        'AUTH_USER_INACTIVE',
        'The account behind this token is not active',
      );
    return user;
  }
}
