import type { IncomingHttpHeaders } from 'node:http';
import { extractBearerToken } from '../jwt/bearer-token';
import type { AuthError } from '../errors/auth.errors';
import {
  CONNECTION_REQUEST,
  FOUND_TOKEN,
  keepConnectionRequest,
  type Connection,
  type ConnectionRequest,
  type FoundToken,
  type TokenSource,
} from './auth-request';

/** What a socket or subscription client is told when it is refused or ended: `{ code, message }`. */
export interface ConnectionErrorBody {
  status: 'error';
  statusCode: number;
  code: string;
  message: string;
}

export const connectionErrorBody = (error: AuthError): ConnectionErrorBody => {
  const { statusCode, code, message } = error.getResponse() as ConnectionErrorBody;
  return { status: 'error', statusCode, code, message };
};

/**
 * WebSocket close codes: graphql-ws's own 4401 and 4403 for a refused token and a refused role;
 * 1013 (try again later) when the store cannot answer or a limit is hit.
 */
export function closeCode(error: AuthError): number {
  const status = error.getStatus();
  if (status === 401) return 4401;
  if (status === 403) return 4403;
  return 1013;
}

/** Stands in for a credential of the wrong JSON type: refused as a malformed token, not as none. */
const NOT_A_TOKEN = '!';

/** A handshake credential: a string is the token (an optional `Bearer ` prefix is dropped). */
function credential(value: unknown, via: TokenSource): FoundToken | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return { token: NOT_A_TOKEN, via };
  const bearer = extractBearerToken({ headers: { authorization: value } });
  return { token: bearer ?? value, via };
}

function connectionRequest(
  upgrade: UpgradeRequest,
  found: FoundToken | undefined,
  connection: Connection,
): ConnectionRequest {
  const request: ConnectionRequest = {
    headers: upgrade.headers,
    // Kept so that two Authorization headers are refused here as over HTTP.
    rawHeaders: upgrade.rawHeaders ?? upgrade.raw?.rawHeaders,
    method: 'GET',
    socket: { remoteAddress: upgrade.socket?.remoteAddress },
    connection,
  };
  // Undefined leaves the lookup to the headers (Authorization, then the cookie).
  if (found) request[FOUND_TOKEN] = found;
  return request;
}

type SocketIoSocket = {
  handshake: { headers: IncomingHttpHeaders; address?: string; auth?: unknown };
  request?: { rawHeaders?: readonly string[] };
  conn?: { readyState?: string };
  emit(event: string, body: unknown): unknown;
  disconnect(close?: boolean): unknown;
};

/** The request of a socket.io socket: `auth.token` of its handshake, else its headers. */
export function socketIoRequest(socket: SocketIoSocket): ConnectionRequest {
  const existing = (socket as { [CONNECTION_REQUEST]?: ConnectionRequest })[CONNECTION_REQUEST];
  if (existing) return existing;
  const { headers, address, auth } = socket.handshake;
  const token =
    typeof auth === 'object' && auth !== null
      ? credential((auth as { token?: unknown }).token, 'handshake')
      : undefined;
  const upgrade = {
    headers,
    rawHeaders: socket.request?.rawHeaders,
    socket: { remoteAddress: address },
  };
  const request = connectionRequest(upgrade, token, {
    kind: 'socket.io',
    end(error, told) {
      if (!told) socket.emit('exception', connectionErrorBody(error));
      socket.disconnect(true);
    },
    // engine.io's transport: open from the handshake on, closed once the client is gone.
    isOpen: () => socket.conn?.readyState === 'open',
  });
  keepConnectionRequest(socket, request);
  return request;
}

export type WsSocket = {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
};

/** The request of a plain WebSocket (`ws`): its upgrade request's headers. */
export function wsRequest(socket: WsSocket, upgrade: UpgradeRequest): ConnectionRequest {
  const request = connectionRequest(upgrade, undefined, {
    kind: 'ws',
    isOpen: () => socket.readyState === OPEN,
    end(error, told) {
      if (socket.readyState !== OPEN) return;
      if (!told)
        socket.send(JSON.stringify({ event: 'exception', data: connectionErrorBody(error) }));
      socket.close(closeCode(error), error.code);
    },
  });
  keepConnectionRequest(socket, request);
  return request;
}

/** The request that opened a WebSocket: Node's (graphql-ws) or Fastify's (Mercurius). */
export interface UpgradeRequest {
  headers: IncomingHttpHeaders;
  rawHeaders?: readonly string[];
  /** Fastify's request: the Node request underneath. */
  raw?: { rawHeaders?: readonly string[] };
  socket?: { remoteAddress?: string };
}

/** WebSocket readyState OPEN. */
const OPEN = 1;

/** graphql-ws's per-connection context: `connectionParams`, and `extra` from its `ws` server. */
export interface GraphqlWsContext {
  connectionParams?: unknown;
  extra: unknown;
}

/**
 * The request of a graphql-ws connection: `connectionParams.authorization` (`Bearer <token>`),
 * else the upgrade request's headers. Kept on `extra`, which every operation's context sees.
 */
export function graphqlWsRequest(context: GraphqlWsContext): ConnectionRequest {
  const extra = context.extra as { socket: WsSocket; request: UpgradeRequest };
  const existing = (extra as { [CONNECTION_REQUEST]?: ConnectionRequest })[CONNECTION_REQUEST];
  if (existing) return existing;
  const request = subscriptionRequest(context.connectionParams, extra.socket, extra.request);
  keepConnectionRequest(extra, request);
  return request;
}

/** A subscription connection's request, from its `connection_init` payload and upgrade request. */
export function subscriptionRequest(
  connectionParams: unknown,
  socket: WsSocket,
  upgrade: UpgradeRequest,
): ConnectionRequest {
  const params =
    typeof connectionParams === 'object' && connectionParams !== null
      ? (connectionParams as Record<string, unknown>)
      : {};
  const given = params.authorization ?? params.Authorization;
  return connectionRequest(upgrade, credential(given, 'connection-params'), {
    kind: 'graphql-ws',
    isOpen: () => socket.readyState === OPEN,
    end(error) {
      if (socket.readyState === OPEN) socket.close(closeCode(error), error.code);
    },
  });
}

/**
 * Answers a refused socket message: the acknowledgement (when the client asked for one) gets
 * `{ code, message }`, and a token that no longer holds ends the connection once the
 * `exception` event has gone out. Returns the body for that event.
 */
export function answerSocket(
  args: readonly unknown[],
  connection: Connection | undefined,
  error: AuthError,
): ConnectionErrorBody {
  const body = connectionErrorBody(error);
  // Nest calls a gateway handler with (client, data, ack?, pattern).
  const ack = args.slice(2).find((arg) => typeof arg === 'function');
  if (ack) (ack as (body: unknown) => void)(body);
  if (connection && error.getStatus() === 401) setImmediate(() => connection.end(error, true));
  return body;
}
