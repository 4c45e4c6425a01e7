export { AuthModule } from './auth.module';
export type { AuthModuleExtras } from './auth.module-definition';
export {
  SUPPORTED_ALGORITHMS,
  type AuthModuleOptions,
  type CacheManagerLike,
  type AuthUser,
  type JwtAlgorithm,
  type KeyMaterial,
  type KeyOptions,
  type RevocationOptions,
  type RemoteJwksOptions,
  type SlidingOptions,
  type CookieOptions,
  type ConnectionOptions,
  type TokenLocation,
  type RateLimit,
  type RateLimitOptions,
  type RedisConnection,
  type RedisSentinelOptions,
  type RedisClusterOptions,
  type LockoutOptions,
} from './auth-options.interface';
export {
  AuditSink,
  JsonLinesAuditSink,
  LoggerAuditSink,
  type AuditEvent,
  type AuditEventName,
} from './audit/audit-event';
export type { ClientInfo, ClientRequest } from './common/client';
export {
  LoginEndpoint,
  NoRateLimit,
  RateLimitGuard,
  RefreshEndpoint,
} from './rate-limit/rate-limit.guard';
export { MemoryRateLimitStore, RateLimitStore, type HitCount } from './rate-limit/rate-limit.store';
export { RedisRateLimitStore } from './rate-limit/redis-rate-limit.store';
export { Clock } from './common/clock';
export { CookieTransport, type CookieSessionBody } from './cookies/cookie-transport';
export type {
  AuthRequest,
  Connection,
  ConnectionRequest,
  FoundToken,
  TokenSource,
} from './context/auth-request';
export { ConnectionAuth } from './context/connection-auth.service';
export type { ConnectionErrorBody } from './context/connections';
export { createSocketIoAdapter, createWsAdapter } from './context/socket-adapters';
export { OptionalAuth } from './jwt/access-rule';
export {
  AuthConfigError,
  AuthError,
  InvalidTokenError,
  isAuthError,
  type AuthErrorBody,
  type AuthErrorCode,
} from './errors/auth.errors';
export { extractBearerToken } from './jwt/bearer-token';
export type { PublicJwk } from './keys/key-ring';
export { CurrentUser } from './jwt/current-user.decorator';
export { JwtAuthGuard } from './jwt/jwt-auth.guard';
export { Public } from './jwt/public.decorator';
export { MemoryRevocationStore } from './revocation/memory-revocation.store';
export {
  CacheManagerRevocationStore,
  type CacheManagerRevocationStoreOptions,
  type KeyvLike,
} from './revocation/cache-manager-revocation.store';
export {
  RedisRevocationStore,
  type RedisRevocationStoreOptions,
} from './revocation/redis-revocation.store';
export {
  RevocationStore,
  type RotationResult,
  type Successor,
  type TokenRef,
} from './revocation/revocation-store';
export { RevocationService } from './revocation/revocation.service';
export { StoreHealthIndicator, type StoreHealth } from './revocation/store-health.indicator';
export { Roles } from './roles/roles.decorator';
export { RolesGuard } from './roles/roles.guard';
export { NoTokenRenewal } from './renewal/no-token-renewal.decorator';
export { AuthService } from './session/auth.service';
export type {
  AuthPrincipal,
  TokenClaims,
  TokenPair,
  TokenUse,
} from './tokens/token-claims.interface';
export { TokenVerifier } from './jwt/token.verifier';
export {
  addAuthSchemes,
  BEARER_SCHEME,
  COOKIE_SCHEME,
  type AuthSecurityScheme,
  type SecuritySchemeBuilder,
} from './swagger/swagger-auth';
