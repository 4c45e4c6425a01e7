import type { ArgumentsHost } from '@nestjs/common';
import {
  CONNECTION_REQUEST,
  connectionRequestOf,
  type AuthRequest,
  type Connection,
  type ConnectionRequest,
} from './auth-request';
import { socketIoRequest } from './connections';

/** What a guard, decorator or filter needs of one call, whatever the context. */
export interface AuthTarget {
  /** `context.getType()`: 'http', 'graphql', 'ws', 'rpc', or a plugin's own. */
  type: string;
  /** Absent where TokenGuard cannot tell who is calling (RPC, a plugin's context). */
  request?: AuthRequest;
  /** Where response headers go: the HTTP response, also under GraphQL. */
  response?: unknown;
  /** Set for sockets and subscriptions. */
  connection?: Connection;
  /** A cookie-authenticated call that changes state must prove intent (CSRF). */
  changesState: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one place that knows where each context keeps its request: every guard, interceptor,
 * decorator and filter of TokenGuard asks here instead of calling `switchToHttp()`.
 */
export function authTarget(host: ArgumentsHost): AuthTarget {
  const type = host.getType<string>();
  if (type === 'http') {
    const request = host.getArgByIndex<AuthRequest>(0);
    const method = request.method ?? 'GET';
    return {
      type,
      request,
      response: host.getArgByIndex(1),
      // Node hands methods upper-cased; the second look is for the odd one that is not.
      changesState: !SAFE_METHODS.has(method) && !SAFE_METHODS.has(method.toUpperCase()),
    };
  }
  if (type === 'graphql') return graphqlTarget(host);
  if (type === 'ws') {
    const client = host.getArgByIndex<object>(0);
    // socket.io keeps its handshake on the socket; a plain WebSocket's is kept by our adapter.
    const request =
      connectionRequestOf(client) ??
      ('handshake' in client ? socketIoRequest(client as never) : undefined);
    return { type, request, connection: request?.connection, changesState: false };
  }
  return { type, changesState: true };
}

type GraphqlContext = {
  req?: AuthRequest & { res?: unknown; extra?: unknown };
  res?: unknown;
  reply?: unknown;
  extra?: unknown;
  [CONNECTION_REQUEST]?: ConnectionRequest;
};

/**
 * Resolver arguments are (root, args, context, info). Over HTTP the context holds the request:
 * `req` (Apollo, Mercurius) and the response (`res`, Express's `req.res`, Mercurius's `reply`).
 * Over graphql-ws it holds the connection's request, put there at `connection_init`.
 */
function graphqlTarget(host: ArgumentsHost): AuthTarget {
  const context = host.getArgByIndex<GraphqlContext | undefined>(2);
  const info = host.getArgByIndex<{ operation?: { operation?: string } } | undefined>(3);
  const changesState = info?.operation?.operation === 'mutation';
  const connection =
    context?.[CONNECTION_REQUEST] ??
    connectionRequestOf(context?.extra) ??
    connectionRequestOf(context?.req?.extra);
  if (connection) {
    return {
      type: 'graphql',
      request: connection,
      connection: connection.connection,
      changesState,
    };
  }
  const request = context?.req;
  if (!request || typeof request.headers !== 'object' || request.headers === null) {
    return { type: 'graphql', changesState };
  }
  return {
    type: 'graphql',
    request,
    response: context.res ?? context.reply ?? request.res,
    changesState,
  };
}
