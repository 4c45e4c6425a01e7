import { HttpStatus, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AuthConfig } from '../auth-options.validate';
import { AuditService } from '../audit/audit.service';
import { ClientResolver } from './client-resolver';
import { AuthError, isAuthError, TooManyRequestsError } from '../errors/auth.errors';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { JwtAuthGuard } from '../jwt/jwt-auth.guard';
import type { AuthPrincipal } from '../tokens/token-claims.interface';
import {
  CONNECTION_REQUEST,
  connectionRequestOf,
  keepConnectionRequest,
  type ConnectionRequest,
} from './auth-request';
import {
  graphqlWsRequest,
  subscriptionRequest,
  type GraphqlWsContext,
  type UpgradeRequest,
  type WsSocket,
} from './connections';

const MERCURIUS_SOCKET = Symbol('tokenguard.mercuriusSocket');

/**
 * Authenticates sockets and subscriptions when they connect, and keeps checking them while they
 * live: every `connections.recheckSeconds` each open connection's token goes through the guard's
 * checks again (expiry, revocation, `findUser`, `inspectRequest`), and a connection whose token
 * no longer holds is told why and closed. One timer for all of them, running only while any is
 * open; each check is one revocation lookup (the signature is cached).
 */
@Injectable()
export class ConnectionAuth implements OnModuleDestroy {
  private readonly open = new Set<ConnectionRequest>();
  private timer?: NodeJS.Timeout;
  private rechecking = false;

  constructor(
    private readonly guard: JwtAuthGuard,
    private readonly config: AuthConfig,
    private readonly audit: AuditService,
    private readonly limits: RateLimitService,
    private readonly clients: ClientResolver,
  ) {}

  /**
   * The connection's caller; rejects with the AuthError when its token does not hold. Handshakes
   * count against the default rate limit per client, as requests do: each one costs a check.
   */
  async accept(request: ConnectionRequest): Promise<AuthPrincipal> {
    let principal: AuthPrincipal;
    try {
      await this.countHandshake(request);
      principal = await this.guard.authenticate(request, { connection: request.connection });
    } catch (error) {
      throw this.refused(asAuthError(error), request);
    }
    // A client that left while it was checked has nothing left to watch.
    if (!request.connection.isOpen()) return principal;
    this.open.add(request);
    this.timer ??= setInterval(
      () => void this.recheck(),
      this.config.connections.recheckSeconds * 1000,
    ).unref();
    return principal;
  }

  /** Stops watching a connection that closed. */
  release(request: ConnectionRequest): void {
    this.open.delete(request);
    if (this.open.size === 0) this.stop();
  }

  /**
   * graphql-ws server options (Apollo: `subscriptions: { 'graphql-ws': ... }`): the token comes
   * in `connectionParams.authorization` (`Bearer <token>`) or, with cookies on, the handshake's
   * cookie; a connection without a valid one is closed with 4401 and the code as reason.
   */
  graphqlWs(): {
    onConnect(context: GraphqlWsContext): Promise<boolean>;
    onClose(context: GraphqlWsContext): void;
  } {
    return {
      onConnect: async (context) => {
        const request = graphqlWsRequest(context);
        try {
          await this.accept(request);
          return true;
        } catch (error) {
          request.connection.end(asAuthError(error));
          return false;
        }
      },
      onClose: (context) => this.release(graphqlWsRequest(context)),
    };
  }

  /**
   * Mercurius subscription options (`subscription: ...` of its driver config), doing the same
   * at `connection_init`. Mercurius hands `onConnect` only the message; the connection it runs
   * for (its `this`) holds the socket and upgrade request that `context` put there.
   */
  mercurius(): {
    context(socket: unknown, upgrade: unknown): Record<symbol, unknown>;
    onConnect(
      this: unknown,
      message: { payload?: unknown },
    ): Promise<Record<symbol, unknown> | false>;
    onDisconnect(context: object): void;
  } {
    const accept = (request: ConnectionRequest) => this.accept(request);
    const release = (request: ConnectionRequest) => this.release(request);
    return {
      context: (socket, upgrade) => ({ [MERCURIUS_SOCKET]: { socket, upgrade } }),
      async onConnect(message) {
        const holder = (this as { context?: Record<symbol, unknown> }).context?.[
          MERCURIUS_SOCKET
        ] as { socket: WsSocket; upgrade: UpgradeRequest } | undefined;
        if (!holder) return false;
        // Mercurius takes connection_init more than once on one socket: only the last one counts.
        const previous = connectionRequestOf(holder.socket);
        if (previous) release(previous);
        const request = subscriptionRequest(message.payload, holder.socket, holder.upgrade);
        keepConnectionRequest(holder.socket, request);
        try {
          await accept(request);
          return { [CONNECTION_REQUEST]: request };
        } catch (error) {
          request.connection.end(asAuthError(error));
          return false;
        }
      },
      onDisconnect: (context) => {
        const request = (context as { [CONNECTION_REQUEST]?: ConnectionRequest })[
          CONNECTION_REQUEST
        ];
        if (request) this.release(request);
      },
    };
  }

  onModuleDestroy(): void {
    this.open.clear();
    this.stop();
  }

  private async recheck(): Promise<void> {
    // A slow store must not pile rechecks up: the next one starts after this one ends.
    if (this.rechecking) return;
    this.rechecking = true;
    await Promise.all(
      [...this.open].map(async (request) => {
        // A release the transport never reported (it closed during its handshake, say).
        if (!request.connection.isOpen()) return this.release(request);
        try {
          await this.guard.authenticate(request, { connection: request.connection });
        } catch (error) {
          this.release(request);
          request.connection.end(this.refused(asAuthError(error), request));
        }
      }),
    ).finally(() => (this.rechecking = false));
  }

  private async countHandshake(request: ConnectionRequest): Promise<void> {
    const limit = this.config.rateLimit.default;
    if (!limit) return;
    const windowMs = limit.ttlSeconds * 1000;
    const key = `handshake:${this.clients.address(request)}`;
    const { blockedMs } = await this.limits.hit(key, windowMs, limit.limit, windowMs);
    if (blockedMs > 0) {
      throw new TooManyRequestsError('AUTH_RATE_LIMITED', 'Too many connections', blockedMs);
    }
  }

  /** Audits a refused or ended connection, as the exception filter does for HTTP. */
  private refused(error: AuthError, request: ConnectionRequest): AuthError {
    this.audit.refused(error, { token: request.user, request });
    return error;
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** An app hook's own failure still ends the connection, without its details. */
export function asAuthError(error: unknown): AuthError {
  return isAuthError(error)
    ? error
    : new AuthError(
        'AUTH_STORE_UNAVAILABLE',
        HttpStatus.SERVICE_UNAVAILABLE,
        'The connection could not be checked; try again',
        { cause: error },
      );
}
