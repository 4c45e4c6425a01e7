import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import { randomUUID } from 'node:crypto';
import type { AuthRequest } from '../context/auth-request';
import { CookieTransport } from '../cookies/cookie-transport';
import { AuthService } from '../tokens/auth.service';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import { TokenVerifier, type DecodedToken } from '../tokens/token.verifier';
import { VerifiedTokenCache } from './verified-token.cache';

/** Takes the mixin's registration under the shared name 'jwt', which would clash between apps. */
const detachedPassport = new passport.Passport();

/**
 * passport-jwt strategy for access tokens. passport's registry is process-wide, so each module
 * instance registers under its own name: two apps in one process (tests, several instances)
 * never call each other's strategy.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) implements OnModuleDestroy {
  readonly strategyName = `tokenguard-jwt-${randomUUID()}`;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly auth: AuthService,
    private readonly cache: VerifiedTokenCache,
    private readonly transport: CookieTransport,
  ) {
    super({
      jwtFromRequest: (request: AuthRequest) => transport.accessToken(request)?.token ?? null,
      secretOrKeyProvider: (_req: unknown, token: string, done) => {
        try {
          // A KeyObject, imported once: passport-jwt's types predate jsonwebtoken accepting them.
          done(null, verifier.keyFor(token) as unknown as Buffer);
        } catch (error) {
          done(error);
        }
      },
      passReqToCallback: true,
      jsonWebTokenOptions: verifier.jsonWebTokenOptions,
      // passport-jwt overwrites these two inside jsonWebTokenOptions with its own top-level
      // values (undefined, false): without them here the pinned algorithm is dropped and
      // expiry is judged by the wall clock instead of ours.
      algorithms: verifier.jsonWebTokenOptions.algorithms,
      ignoreExpiration: verifier.jsonWebTokenOptions.ignoreExpiration,
    });
    passport.use(this.strategyName, this);
  }

  getPassportInstance(): passport.Authenticator {
    return detachedPassport;
  }

  /** Runs after the signature check: claims, then revocation and the app's user check. */
  validate(request: AuthRequest, decoded: DecodedToken): Promise<AuthPrincipal> {
    const claims = this.verifier.checkClaims(decoded, 'access');
    const found = this.transport.accessToken(request);
    if (found) this.cache.set(found.token, decoded, claims.exp);
    return this.auth.principalFor(claims);
  }

  onModuleDestroy(): void {
    passport.unuse(this.strategyName);
  }
}
