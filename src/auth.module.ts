import { Module } from '@nestjs/common';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { AuthModuleOptions } from './auth-options.interface';
import { AuthConfig, resolveAuthConfig } from './auth-options.validate';
import { AUTH_MODULE_OPTIONS, ConfigurableModuleClass } from './auth.module-definition';
import { Clock } from './common/clock';
import { CookieTransport } from './cookies/cookie-transport';
import { AuthExceptionFilter } from './errors/auth-exception.filter';
import { AccessRules } from './jwt/access-rule';
import { ConnectionAuth } from './context/connection-auth.service';
import { GlobalAuthGuard } from './jwt/global-auth.guard';
import { JwtAuthGuard } from './jwt/jwt-auth.guard';
import { JwtStrategy } from './jwt/jwt.strategy';
import { Principals } from './jwt/principals';
import { TokenVerifier } from './jwt/token.verifier';
import { VerifiedTokenCache } from './jwt/verified-token.cache';
import { RolesGuard } from './roles/roles.guard';
import { MemoryRevocationStore } from './revocation/memory-revocation.store';
import { RedisRevocationStore } from './revocation/redis-revocation.store';
import { CacheManagerRevocationStore } from './revocation/cache-manager-revocation.store';
import { RevocationStore } from './revocation/revocation-store';
import { RevocationService } from './revocation/revocation.service';
import { StoreHealthIndicator } from './revocation/store-health.indicator';
import { SessionRenewal } from './renewal/session-renewal';
import { AuthService } from './session/auth.service';
import { TokenIssuer } from './tokens/token-issuer';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { AuditSink, LoggerAuditSink } from './audit/audit-event';
import { AuditService } from './audit/audit.service';
import { ClientResolver } from './context/client-resolver';
import { RateLimitGuard, throttlerOptions, throttlerStorage } from './rate-limit/rate-limit.guard';
import { MemoryRateLimitStore, RateLimitStore } from './rate-limit/rate-limit.store';
import { RateLimitService } from './rate-limit/rate-limit.service';
import { RedisRateLimitStore } from './rate-limit/redis-rate-limit.store';

/**
 * JWT authentication: `AuthModule.forRoot(options)` or `AuthModule.forRootAsync({ useFactory })`.
 * Options are validated when the app boots; a bad one stops it with an AuthConfigError.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: AuthConfig,
      inject: [AUTH_MODULE_OPTIONS],
      useFactory: (o: AuthModuleOptions) => resolveAuthConfig(o),
    },
    { provide: Clock, inject: [AuthConfig], useFactory: (config: AuthConfig) => config.clock },
    { provide: RevocationStore, inject: [AuthConfig], useFactory: createRevocationStore },
    { provide: RateLimitStore, inject: [AuthConfig], useFactory: createRateLimitStore },
    {
      provide: AuditSink,
      inject: [AuthConfig],
      useFactory: ({ options }: AuthConfig) => options.auditSink ?? new LoggerAuditSink(),
    },
    { provide: getOptionsToken(), inject: [AuthConfig], useFactory: throttlerOptions },
    { provide: getStorageToken(), inject: [RateLimitService], useFactory: throttlerStorage },
    { provide: JwtService, useValue: new JwtService() },
    { provide: APP_FILTER, useClass: AuthExceptionFilter },
    TokenVerifier,
    TokenIssuer,
    Principals,
    SessionRenewal,
    RevocationService,
    ClientResolver,
    AuditService,
    RateLimitService,
    RateLimitGuard,
    AuthService,
    VerifiedTokenCache,
    CookieTransport,
    JwtStrategy,
    JwtAuthGuard,
    RolesGuard,
    GlobalAuthGuard,
    AccessRules,
    ConnectionAuth,
    StoreHealthIndicator,
  ],
  exports: [
    StoreHealthIndicator,
    AccessRules,
    ConnectionAuth,
    AuthConfig,
    Clock,
    ClientResolver,
    AuditService,
    RateLimitService,
    RateLimitGuard,
    AuthService,
    RevocationService,
    RevocationStore,
    TokenVerifier,
    VerifiedTokenCache,
    CookieTransport,
    JwtStrategy,
    JwtAuthGuard,
    RolesGuard,
    // What JwtAuthGuard needs where an app applies it itself (@UseGuards resolves in the app's module).
    Principals,
    SessionRenewal,
  ],
})
export class AuthModule extends ConfigurableModuleClass {}

/** The app's own store, else its cache-manager cache, else Redis when configured, else memory. */
function createRevocationStore({ revocation, clock }: AuthConfig): RevocationStore {
  if (revocation.store) return revocation.store;
  if (revocation.cache) {
    // Options checks let an in-memory Keyv through only with allowInMemoryCache. It is this
    // process's memory either way; the memory store keeps the same promises in a third of the
    // bytes (Keyv's Map holds a namespaced key and a JSON envelope per entry, and never sweeps),
    // and the app's own cache.clear() cannot revive logged-out tokens.
    if ((revocation.cache.stores[0] as { store?: unknown }).store instanceof Map) {
      return new MemoryRevocationStore(clock, 'revocation.cache is an in-memory Keyv');
    }
    return new CacheManagerRevocationStore(revocation.cache, { keyPrefix: revocation.keyPrefix });
  }
  if (revocation.redis) return new RedisRevocationStore({ ...revocation, redis: revocation.redis });
  return new MemoryRevocationStore(clock);
}

/** The app's own store, else Redis (`rateLimit.redis`, else revocation's, on its own connection), else memory. */
function createRateLimitStore({ rateLimit, clock }: AuthConfig): RateLimitStore {
  if (rateLimit.store) return rateLimit.store;
  const { redis, keyPrefix, timeoutMs } = rateLimit;
  if (redis) return new RedisRateLimitStore(redis, keyPrefix, timeoutMs);
  return new MemoryRateLimitStore(clock);
}
