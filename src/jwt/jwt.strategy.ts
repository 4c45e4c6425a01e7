import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import { randomUUID } from 'node:crypto';
import type { AuthError } from '../errors/auth.errors';
import { TokenVerifier, type DecodedToken } from './token.verifier';

/** Where passport's request keeps why the key callback refused its token. */
const KEY_REFUSAL = Symbol('tokenguard.keyRefusal');

/**
 * The request passport is given: the token alone. passport and @nestjs/passport write nine fields
 * on the request they authenticate (`login`, `logout`, `isAuthenticated`, ..., `authInfo`, the
 * result), none of which a bearer token needs; on the app's request that would cost (Express 5
 * gives every request its own prototype, and each added field measured about 1.4 µs there) and
 * leave session methods that do nothing. The app's request is left as it is.
 */
export interface PassportRequest {
  readonly token: string;
  [KEY_REFUSAL]?: () => AuthError | undefined;
}

/** Takes the mixin's registration under the shared name 'jwt', which would clash between apps. */
const detachedPassport = new passport.Passport();

/**
 * passport-jwt, as JwtAuthGuard runs it: it reads the token the guard found (on a request of
 * passport's own, `PassportRequest`), has jsonwebtoken decode it once and check its signature
 * with the key `TokenVerifier` picks from the decoded header, and hands back the verified token;
 * the guard does everything after (claims, revocation, the principal), as it does for a token it
 * verified before.
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
      jwtFromRequest: (request: PassportRequest) => request.token,
      secretOrKeyProvider: (request: PassportRequest, token: string, done) => {
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
  validate(_request: PassportRequest, decoded: DecodedToken): DecodedToken {
    return decoded;
  }

  /** Why the key callback refused this request's token, when it did. */
  refusalOf(request: PassportRequest): AuthError | undefined {
    return request[KEY_REFUSAL]?.();
  }

  onModuleDestroy(): void {
    passport.unuse(this.strategyName);
  }
}
