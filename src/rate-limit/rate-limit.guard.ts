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
import type { ClientRequest } from '../common/client';
import { ClientResolver } from '../context/client-resolver';
import { authTarget } from '../context/auth-target';
import { forContext } from '../context/socket-refusal';
import { TooManyRequestsError } from '../errors/auth.errors';
import type { RateLimitService } from './rate-limit.service';

/** Exempts a route (or controller) from every limit: health checks, for instance. */
export const NoRateLimit = (): MethodDecorator & ClassDecorator =>
  SkipThrottle({ default: true, login: true, refresh: true });

/** Marks the route that checks credentials: it gets the (much lower) login limit per client. */
export const LoginEndpoint = Reflector.createDecorator<true>({ transform: () => true });

/** Marks the route that exchanges refresh tokens: it gets the refresh limit per client. */
export const RefreshEndpoint = Reflector.createDecorator<true>({ transform: () => true });

/** @nestjs/throttler's metadata key for `@SkipThrottle()` (not exported by the package). */
const THROTTLER_SKIP = 'THROTTLER:SKIP';

/**
 * @nestjs/throttler's guard, with the client read through `trustProxy`, and refusals as coded
 * errors: 429 AUTH_RATE_LIMITED with `Retry-After`, 503 AUTH_STORE_UNAVAILABLE when the counter
 * store cannot answer (throttler's own guard would let a store error become a 500).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  /** Whether any limit applies to a handler: its metadata never changes, so once per handler. */
  private readonly limitedHandlers = new WeakMap<object, boolean>();

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

  /**
   * Whether any limit applies to a handler (none, for most, with the default limit off) and
   * there is a client to count (not RPC, not a plugin's own context): decided once per handler,
   * before any of throttler's per-request work.
   */
  applies(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let limited = this.limitedHandlers.get(handler);
    if (limited === undefined) {
      const targets = [handler, context.getClass()];
      limited = this.throttlers.some(
        ({ name, skipIf }) =>
          !this.reflector.getAllAndOverride<boolean>(THROTTLER_SKIP + name, targets) &&
          !skipIf?.(context),
      );
      this.limitedHandlers.set(handler, limited);
    }
    return limited && authTarget(context).request !== undefined;
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(!this.applies(context));
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

/**
 * The throttler's options from ours: `login` and `refresh` limits on the routes marked for them
 * (one count per client across every such route), and the app-wide `default` only when asked for.
 */
export function throttlerOptions({ rateLimit }: AuthConfig): ThrottlerModuleOptions {
  const reflector = new Reflector();
  const throttlers = [];
  if (rateLimit.default) {
    const { limit, ttlSeconds } = rateLimit.default;
    // No X-RateLimit-* headers on every response (three header writes per request); a refusal
    // still says when to come back (Retry-After).
    throttlers.push({ name: 'default', limit, ttl: ttlSeconds * 1000, setHeaders: false });
  }
  for (const [name, marker] of [
    ['login', LoginEndpoint],
    ['refresh', RefreshEndpoint],
  ] as const) {
    const chosen = rateLimit[name];
    if (!chosen) continue;
    throttlers.push({
      name,
      limit: chosen.limit,
      ttl: chosen.ttlSeconds * 1000,
      skipIf: (context: ExecutionContext) =>
        reflector.getAllAndOverride(marker, [context.getHandler(), context.getClass()]) !== true,
      // One count per client across every marked route (throttler's default is per route).
      generateKey: (_context: ExecutionContext, tracker: string) => `${name}:${tracker}`,
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
