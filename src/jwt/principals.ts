import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../auth-options.interface';
import { AuthConfig } from '../auth-options.validate';
import type { ClientRequest } from '../common/client';
import { InvalidTokenError } from '../errors/auth.errors';
import { RevocationService } from '../revocation/revocation.service';
import type { AuthPrincipal, TokenClaims } from '../tokens/token-claims.interface';

/**
 * The caller behind verified claims: the one place a principal is made (for a token verified
 * now or found in the verified-token cache, on a request or a connection), and the app's two
 * hooks on it, `findUser` and `inspectRequest`.
 */
@Injectable()
export class Principals {
  constructor(
    private readonly config: AuthConfig,
    private readonly revocation: RevocationService,
  ) {}

  /** The principal of an access token's claims: refused if revoked, or if the app's user check says no. */
  async of(claims: TokenClaims): Promise<AuthPrincipal> {
    await this.revocation.assertActive(claims);
    const user = await this.user(claims);
    const { sub, sid, jti } = claims;
    return {
      sub,
      sid,
      jti,
      roles: user.roles,
      claims,
      ...(this.config.options.findUser && { user }),
    };
  }

  /** The app's current view of the user (`findUser`), or the token's when there is no hook. */
  async user(claims: TokenClaims): Promise<AuthUser> {
    const { findUser } = this.config.options;
    if (!findUser) return { sub: claims.sub, roles: claims.roles };
    const user = await findUser(claims.sub);
    if (!user) {
      throw new InvalidTokenError(
        'AUTH_USER_INACTIVE',
        'The account behind this token is not active',
      );
    }
    return user;
  }

  /**
   * Runs the app's `inspectRequest` hook on a principal: `'refuse'` refuses the request,
   * `'revoke'` also ends the session. Nothing to wait for without a hook.
   */
  inspect(principal: AuthPrincipal, request: ClientRequest): Promise<void> | undefined {
    const { inspectRequest } = this.config.options;
    return inspectRequest && this.judge(inspectRequest(principal, request), principal, request);
  }

  private async judge(
    pending: ReturnType<NonNullable<AuthConfig['options']['inspectRequest']>>,
    principal: AuthPrincipal,
    request: ClientRequest,
  ): Promise<void> {
    const verdict = await pending;
    if (verdict !== 'refuse' && verdict !== 'revoke') return;
    if (verdict === 'revoke') {
      await this.revocation.revokeSession(principal, request);
      markEnded(principal);
    }
    throw new InvalidTokenError('AUTH_TOKEN_REFUSED', 'The token was refused for this request');
  }
}

/**
 * Set on a request's principal (one object per request) when the request ends its session, so
 * its response renews nothing: the mark lives and dies with the request. A symbol, so no claim or
 * field of the app's can collide with it, and it stays out of JSON.
 */
const SESSION_ENDED = Symbol('tokenguard.sessionEnded');

export const markEnded = (principal: AuthPrincipal): void => {
  Object.defineProperty(principal, SESSION_ENDED, { value: true });
};

/** Whether this request's principal logged out (or was revoked) during the request. */
export const hasEnded = (principal: AuthPrincipal): boolean =>
  (principal as Partial<Record<typeof SESSION_ENDED, true>>)[SESSION_ENDED] === true;
