import type { IncomingHttpHeaders } from 'node:http';
import type { AuthError } from '../errors/auth.errors';
import type { AuthPrincipal } from '../tokens/token-claims.interface';

/** How a token reached the server: a bearer header, a cookie, or a socket's handshake payload. */
export type TokenSource = 'header' | 'cookie' | 'handshake' | 'connection-params';

/** A request's access token and how it came. */
export interface FoundToken {
  token: string;
  via: TokenSource;
}

/** The found token, kept on the request so that it is looked up once (null: none was sent). */
export const FOUND_TOKEN = Symbol('tokenguard.foundToken');
/** The request a socket or a subscription connection authenticated with, kept on it. */
export const CONNECTION_REQUEST = Symbol('tokenguard.connectionRequest');

/**
 * What TokenGuard reads and writes of "the request", in every context: an HTTP request (Express
 * or Fastify, also under GraphQL), or for a socket or a subscription the request made once per
 * connection from its handshake.
 */
export interface AuthRequest {
  headers: IncomingHttpHeaders;
  method?: string;
  rawHeaders?: readonly string[];
  /** Fastify's request: the Node request underneath. */
  raw?: { rawHeaders?: readonly string[] };
  socket?: { remoteAddress?: string };
  /** The verified caller, set by JwtAuthGuard. */
  user?: AuthPrincipal;
  [FOUND_TOKEN]?: FoundToken | null;
}

/** A long-lived connection (socket, subscription) that its session's end must close. */
export interface Connection {
  readonly kind: 'socket.io' | 'ws' | 'graphql-ws';
  /** Closes the connection, first telling the client why unless it was told already. */
  end(error: AuthError, told?: boolean): void;
  /** Whether the client is still there: a connection that went away is no longer checked. */
  isOpen(): boolean;
}

/** The request of a socket or subscription connection. */
export interface ConnectionRequest extends AuthRequest {
  readonly connection: Connection;
}

/** The request a socket or subscription connection keeps (set when it connected), if any. */
export function connectionRequestOf(holder: unknown): ConnectionRequest | undefined {
  if (typeof holder !== 'object' || holder === null) return undefined;
  return (holder as { [CONNECTION_REQUEST]?: ConnectionRequest })[CONNECTION_REQUEST];
}

/** Keeps a connection's request on the object that every later call of that connection sees. */
export function keepConnectionRequest(holder: object, request: ConnectionRequest): void {
  Object.defineProperty(holder, CONNECTION_REQUEST, { value: request, configurable: true });
}
