import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  SkipThrottle,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { AuthConfig } from '../auth-options.validate';
import { AuditService } from '../audit/audit.service';
import { ClientResolver, type ClientRequest } from '../common/client';
import { authTarget } from '../context/auth-target';
import { forContext } from '../context/socket-refusal';
import { TooManyRequestsError } from '../errors/auth.errors';
import type { RateLimitService } from './rate-limit.service';

/** Exempts a route (or controller) from every limit: health checks, for instance. */
export const NoRateLimit = (): MethodDecorator & ClassDecorator =>
  SkipThrottle({ default: true, login: true });

/** Marks the route that checks credentials: it gets the (much lower) login limit per client. */
export const LoginEndpoint = Reflector.createDecorator<true>({ transform: () => true });

/**
 * @nestjs/throttler's guard, with the client read through `trustProxy`, and refusals as coded
 * errors: 429 AUTH_RATE_LIMITED with `Retry-After`, 503 AUTH_STORE_UNAVAILABLE when the counter
 * store cannot answer (throttler's own guard would let a store error become a 500).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly clients: ClientResolver,
    private readonly audit: AuditService,
  ) {
    super(options, storage, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      return await super.canActivate(context);
    } catch (error) {
      throw forContext(context, error, this.audit);
    }
  }

  /** Contexts without a client to count (RPC, a plugin's own) are not limited here. */
  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(!authTarget(context).request);
  }

  /** The request (HTTP, GraphQL over HTTP, a socket's handshake) and where headers go, if anywhere. */
  protected override getRequestResponse(context: ExecutionContext): {
    req: Record<string, unknown>;
    res: Record<string, unknown>;
  } {
    const { request, response } = authTarget(context);
    return {
      req: request as unknown as Record<string, unknown>,
      res: (response ?? {}) as Record<string, unknown>,
    };
  }

  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    return Promise.resolve(this.clients.address(request as unknown as ClientRequest));
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    { timeToBlockExpire }: ThrottlerLimitDetail,
  ): Promise<void> {
    throw new TooManyRequestsError(
      'AUTH_RATE_LIMITED',
      'Too many requests',
      timeToBlockExpire * 1000,
    );
  }
}

/** The throttler's options from ours: a `default` limit on every route, a `login` one on marked routes. */
export function throttlerOptions({ rateLimit }: AuthConfig): ThrottlerModuleOptions {
  const reflector = new Reflector();
  const isLogin = (context: ExecutionContext) =>
    reflector.getAllAndOverride(LoginEndpoint, [context.getHandler(), context.getClass()]) === true;
  const throttlers = [];
  if (rateLimit.default) {
    const { limit, ttlSeconds } = rateLimit.default;
    // No X-RateLimit-* headers on every response (three header writes per request); a refusal
    // still says when to come back (Retry-After).
    throttlers.push({ name: 'default', limit, ttl: ttlSeconds * 1000, setHeaders: false });
  }
  if (rateLimit.login) {
    const { limit, ttlSeconds } = rateLimit.login;
    throttlers.push({
      name: 'login',
      limit,
      ttl: ttlSeconds * 1000,
      skipIf: (context: ExecutionContext) => !isLogin(context),
      // One count per client across every login route (throttler's default is per route).
      generateKey: (_context: ExecutionContext, tracker: string) => `login:${tracker}`,
    });
  }
  return { throttlers, setHeaders: true };
}

/** Throttler's storage interface over our counters (Redis or memory, bounded, fail-closed). */
export function throttlerStorage(limits: RateLimitService): ThrottlerStorage {
  return {
    async increment(key, ttl, limit, blockDuration) {
      const { hits, windowLeftMs, blockedMs } = await limits.hit(key, ttl, limit, blockDuration);
      return {
        totalHits: hits,
        timeToExpire: Math.ceil(windowLeftMs / 1000),
        isBlocked: blockedMs > 0,
        timeToBlockExpire: Math.ceil(blockedMs / 1000),
      };
    },
  };
}
