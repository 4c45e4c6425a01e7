export { AuthModule } from './auth.module';
export { AUTH_MODULE_OPTIONS, type AuthModuleExtras } from './auth.module-definition';
export {
  SUPPORTED_ALGORITHMS,
  type AuthModuleOptions,
  type AuthUser,
  type JwtAlgorithm,
  type KeyMaterial,
  type KeyOptions,
  type RevocationOptions,
  type SlidingOptions,
  type CookieOptions,
  type TokenLocation,
} from './auth-options.interface';
export { AuthConfig } from './auth-options.validate';
export {
  ACCESS_TOKEN_TYP,
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
  MAX_TOKEN_LENGTH,
  NEW_TOKEN_HEADER,
  DEFAULT_SESSION_MAX_AGE_SECONDS,
  REFRESH_TOKEN_TYP,
} from './auth.constants';
export { Clock, SystemClock } from './common/clock';
export {
  CookieTransport,
  CSRF_HEADER,
  type CookieSessionBody,
  type FoundToken,
} from './cookies/cookie-transport';
export { parseDurationSeconds } from './common/duration';
export {
  AuthConfigError,
  AuthError,
  InvalidTokenError,
  isAuthError,
  type AuthErrorBody,
  type AuthErrorCode,
} from './errors/auth.errors';
export { AuthExceptionFilter } from './errors/auth-exception.filter';
export { extractBearerToken } from './jwt/bearer-token';
export { KeyRing, type PublicJwk, type RingKey } from './keys/key-ring';
export { CurrentUser } from './jwt/current-user.decorator';
export { JwtAuthGuard } from './jwt/jwt-auth.guard';
export { JwtStrategy } from './jwt/jwt.strategy';
export { Public } from './jwt/public.decorator';
export { MemoryRevocationStore } from './revocation/memory-revocation.store';
export {
  RedisRevocationStore,
  type RedisRevocationStoreOptions,
} from './revocation/redis-revocation.store';
export { RevocationStore, type RotationResult, type TokenRef } from './revocation/revocation-store';
export { RevocationService } from './revocation/revocation.service';
export { RequiredRoles, Roles } from './roles/roles.decorator';
export { RolesGuard } from './roles/roles.guard';
export { NoTokenRenewal, SlidingSessionInterceptor } from './session/sliding-session.interceptor';
export { AuthService } from './tokens/auth.service';
export type {
  AuthPrincipal,
  TokenClaims,
  TokenPair,
  TokenUse,
} from './tokens/token-claims.interface';
export { TokenVerifier } from './tokens/token.verifier';
