import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import { randomUUID } from 'node:crypto';
import { FOUND_TOKEN, type AuthRequest } from '../context/auth-request';
import type { AuthError } from '../errors/auth.errors';
import { TokenVerifier, type DecodedToken } from './token.verifier';

/** Where a request keeps why the key callback refused its token (it lives and dies with the request). */
const KEY_REFUSAL = Symbol('tokenguard.keyRefusal');
type Refusable = AuthRequest & { [KEY_REFUSAL]?: () => AuthError | undefined };

/** Takes the mixin's registration under the shared name 'jwt', which would clash between apps. */
const detachedPassport = new passport.Passport();

/**
 * passport-jwt, as JwtAuthGuard runs it: it reads the token the guard found, has jsonwebtoken
 * decode it once and check its signature with the key `TokenVerifier` picks from the decoded
 * header, and hands back the verified token; the guard does everything after (claims,
 * revocation, the principal), as it does for a token it verified before.
 *
 * Every accommodation passport needs lives in this file:
 * - passport's strategy registry is process-wide: each module instance registers under its own
 *   name (two apps in one process, as in tests, never call each other's strategy), and the
 *   mixin's own registration under 'jwt' goes to a detached Passport;
 * - passport-jwt overwrites `algorithms` and `ignoreExpiration` inside `jsonWebTokenOptions` with
 *   its top-level values, so they are given twice (without them the pinned algorithms are dropped
 *   and expiry is judged by the wall clock, not by our Clock);
 * - the key is a jsonwebtoken key callback (passport-jwt's types expect a string or Buffer, and
 *   jsonwebtoken takes the function), so that the header is decoded by jsonwebtoken alone;
 * - jsonwebtoken keeps only the message of the callback's error: the coded reason is kept on the
 *   request for JwtAuthGuard to report.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) implements OnModuleDestroy {
  readonly strategyName = `tokenguard-jwt-${randomUUID()}`;

  constructor(verifier: TokenVerifier) {
    const options = verifier.jsonWebTokenOptions;
    super({
      jwtFromRequest: (request: AuthRequest) => request[FOUND_TOKEN]?.token ?? null,
      secretOrKeyProvider: (request: Refusable, token: string, done) => {
        try {
          verifier.checkFormat(token);
        } catch (error) {
          return done(error);
        }
        const choice = verifier.keyChoice(token);
        request[KEY_REFUSAL] = choice.refusal;
        done(null, choice.key as unknown as string);
      },
      passReqToCallback: true,
      jsonWebTokenOptions: options,
      algorithms: options.algorithms,
      ignoreExpiration: options.ignoreExpiration,
    });
    passport.use(this.strategyName, this);
  }

  getPassportInstance(): passport.Authenticator {
    return detachedPassport;
  }

  /** The verified token, as passport's "user": JwtAuthGuard makes the principal. */
  validate(_request: AuthRequest, decoded: DecodedToken): DecodedToken {
    return decoded;
  }

  /** Why the key callback refused this request's token, when it did. */
  refusalOf(request: Refusable): AuthError | undefined {
    return request[KEY_REFUSAL]?.();
  }

  onModuleDestroy(): void {
    passport.unuse(this.strategyName);
  }
}
