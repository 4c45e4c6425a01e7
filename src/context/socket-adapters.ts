import type { INestApplicationContext, WebSocketAdapter } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type * as PlatformSocketIo from '@nestjs/platform-socket.io';
import type * as PlatformWs from '@nestjs/platform-ws';
import { ConnectionAuth, asAuthError } from './connection-auth.service';
import { connectionErrorBody, socketIoRequest, wsRequest } from './connections';

type App = INestApplicationContext & { getHttpServer(): unknown };
type IoSocket = Parameters<typeof socketIoRequest>[0] & {
  once(event: 'disconnect', listener: () => void): unknown;
};
type IoMiddleware = (socket: IoSocket, next: (error?: Error) => void) => void;
type WsClient = Parameters<typeof wsRequest>[0] & {
  once(event: 'close', listener: () => void): unknown;
};
type WsServer = {
  on(event: 'connection', fn: (client: WsClient, upgrade: IncomingMessage) => void): void;
};

/**
 * socket.io's Nest adapter with TokenGuard at the handshake, for `app.useWebSocketAdapter(...)`:
 * every namespace a gateway opens refuses a connection without a valid token (`auth.token`, the
 * `Authorization` header, or the cookie with cookies on) with a `connect_error` whose `data` is
 * `{ code, message }`, and watches the ones it lets in. @nestjs/platform-socket.io is loaded here
 * only, so apps without it never load it.
 */
export function createSocketIoAdapter(app: App): WebSocketAdapter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { IoAdapter } = require('@nestjs/platform-socket.io') as typeof PlatformSocketIo;
  const connections = app.get(ConnectionAuth, { strict: false });
  const guarded = new WeakSet<object>();
  const paths = new Set<string>();
  const middleware: IoMiddleware = (socket, next) => {
    const request = socketIoRequest(socket);
    connections.accept(request).then(
      () => {
        socket.once('disconnect', () => connections.release(request));
        next();
      },
      (error: unknown) => {
        const body = connectionErrorBody(asAuthError(error));
        next(Object.assign(new Error(body.message), { data: body }));
      },
    );
  };
  class AuthIoAdapter extends IoAdapter {
    override create(...args: Parameters<PlatformSocketIo.IoAdapter['create']>) {
      paths.add(`${args[1]?.path ?? '/socket.io'}/`);
      const server = super.create(...args);
      if (!guarded.has(server)) {
        guarded.add(server);
        (server as unknown as { use(fn: IoMiddleware): void }).use(middleware);
      }
      return server;
    }
  }
  leaveSocketIoUpgradesToEngineIo(app, paths);
  return new AuthIoAdapter(app.getHttpServer() as never);
}

type FastifyLike = {
  addHook(
    name: 'onRequest',
    hook: (
      request: { raw: { url?: string; headers: { upgrade?: string } } },
      reply: { hijack(): void },
      done: () => void,
    ) => void,
  ): void;
};

/**
 * On Fastify, @fastify/websocket (which Mercurius subscriptions bring) routes every WebSocket
 * upgrade through Fastify, answers socket.io's with a 404 and destroys the socket that engine.io
 * is upgrading at the same time. Fastify lets go of those: engine.io has its own listener.
 */
function leaveSocketIoUpgradesToEngineIo(app: App, paths: ReadonlySet<string>): void {
  const adapter = (
    app as { getHttpAdapter?(): { getType(): string; getInstance(): unknown } }
  ).getHttpAdapter?.();
  if (adapter?.getType() !== 'fastify') return;
  (adapter.getInstance() as FastifyLike).addHook('onRequest', (request, reply, done) => {
    const { url = '', headers } = request.raw;
    if (headers.upgrade && [...paths].some((path) => url.startsWith(path))) return reply.hijack();
    done();
  });
}

/**
 * `ws`'s Nest adapter with TokenGuard at the handshake: a connection whose upgrade request has no
 * valid token (`Authorization` header, or the cookie with cookies on) is sent an `exception`
 * message with `{ code, message }` and closed with 4401 (4403 for a refused origin). Gateways on
 * plain WebSockets need it: without it a message handler cannot see the handshake.
 */
export function createWsAdapter(app: App): WebSocketAdapter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WsAdapter } = require('@nestjs/platform-ws') as typeof PlatformWs;
  const connections = app.get(ConnectionAuth, { strict: false });
  class AuthWsAdapter extends WsAdapter {
    override bindClientConnect(
      server: WsServer,
      callback: (client: WsClient, upgrade: IncomingMessage) => void,
    ): void {
      server.on('connection', (client, upgrade) => {
        // Kept before Nest binds the message handlers: a message that comes first is checked too.
        const request = wsRequest(client, upgrade);
        connections.accept(request).then(
          () => client.once('close', () => connections.release(request)),
          (error: unknown) => request.connection.end(asAuthError(error)),
        );
        callback(client, upgrade);
      });
    }
  }
  return new AuthWsAdapter(app.getHttpServer() as never);
}
