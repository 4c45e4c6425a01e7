import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Controller, Module, type INestApplication } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { WsAdapter } from '@nestjs/platform-ws';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastValueFrom, type Observable } from 'rxjs';
import request from 'supertest';
import WebSocket from 'ws';
import {
  AuthModule,
  AuthService,
  ConnectionAuth,
  createWsAdapter,
  CurrentUser,
  JwtAuthGuard,
  Public,
  RateLimitGuard,
  Roles,
  RolesGuard,
  isAuthError,
  type AuditEvent,
  type AuthError,
  type AuthPrincipal,
} from '../src/index';
import { AuditService } from '../src/audit/audit.service';
import { AuthExceptionFilter } from '../src/errors/auth-exception.filter';

const USERS: Record<string, { sub: string; roles: string[] }> = {
  ann: { sub: 'ann', roles: ['admin'] },
  bob: { sub: 'bob', roles: ['reader'] },
  /** Checked slowly (findUser takes 150 ms): long enough for a client to leave mid-check. */
  slow: { sub: 'slow', roles: [] },
};

@Resolver()
class HelloResolver {
  @Public() @Query(() => String) hello() {
    return 'hi';
  }

  @Query(() => String) me(@CurrentUser() user: AuthPrincipal) {
    return user.sub;
  }
}

@WebSocketGateway({ path: '/ws' })
class PlainGateway {
  @SubscribeMessage('whoami') whoami(@CurrentUser() user: AuthPrincipal) {
    return { event: 'whoami', data: { sub: user.sub } };
  }

  @Roles('admin') @SubscribeMessage('admin') admin() {
    return { event: 'admin', data: { ok: true } };
  }

  @Public() @SubscribeMessage('ping') ping() {
    return { event: 'pong', data: {} };
  }

  @Public() @SubscribeMessage('peek') peek(@CurrentUser() user?: AuthPrincipal) {
    return { event: 'peek', data: { sub: user?.sub ?? null } };
  }
}

/** An RPC-style handler class, for the guards asked about a context they cannot read. */
class RpcHandlers {
  @Public() open() {}
  guarded() {}
}

/** The smallest app with the default global guards, GraphQL and a plain WebSocket gateway. */
async function boot(
  withTokenGuardAdapter: boolean,
  events: AuditEvent[] = [],
): Promise<{ app: INestApplication; host: string }> {
  const auth = AuthModule.forRoot({
    secret: randomBytes(32).toString('base64url'),
    issuer: 'contexts-test',
    audience: 'contexts-test',
    validateCredentials: (username) => USERS[username] ?? null,
    findUser: async (sub) => {
      if (sub === 'slow') await new Promise((resolve) => setTimeout(resolve, 150));
      return USERS[sub];
    },
    auditSink: { write: (event) => void events.push(event) },
    connections: { recheckSeconds: 0.1 },
  });
  @Controller()
  class NoRoutes {}
  // The e2e-fastify Jest project runs this file again on Fastify, with Mercurius.
  const fastify = (globalThis as { DEMO_ADAPTER?: string }).DEMO_ADAPTER === 'fastify';
  const graphql = fastify
    ? GraphQLModule.forRoot<MercuriusDriverConfig>({
        driver: MercuriusDriver,
        autoSchemaFile: true,
      })
    : GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        playground: false,
      });
  @Module({
    imports: [auth, graphql],
    controllers: [NoRoutes],
    providers: [HelloResolver, PlainGateway],
  })
  class AppModule {}
  const options = { logger: false as const, abortOnError: false };
  const app = fastify
    ? await NestFactory.create(AppModule, new FastifyAdapter(), options)
    : await NestFactory.create(AppModule, options);
  app.useWebSocketAdapter(withTokenGuardAdapter ? createWsAdapter(app) : new WsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  return { app, host: `127.0.0.1:${port}` };
}

/** A ws client: every JSON message it receives, and how it closed. */
function wsClient(host: string, token?: string | string[]) {
  const authorization = [token ?? []].flat().map((t) => `Bearer ${t}`);
  // Node sends an array header as that many header lines.
  const headers = authorization.length > 0 ? { authorization } : {};
  const socket = new WebSocket(`ws://${host}/ws`, { headers: headers as Record<string, string> });
  const messages: { event: string; data: Record<string, unknown> }[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (raw: Buffer) => {
    messages.push(JSON.parse(raw.toString()) as (typeof messages)[number]);
    waiters.splice(0).forEach((wake) => wake());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const opened = new Promise<void>((resolve) => socket.once('open', () => resolve()));
  return {
    socket,
    messages,
    closed,
    opened,
    /** Sends a message and resolves with the next one received. */
    async ask(event: string) {
      await opened;
      const next = new Promise<(typeof messages)[number]>((resolve) =>
        waiters.push(() => resolve(messages[messages.length - 1]!)),
      );
      socket.send(JSON.stringify({ event, data: {} }));
      return next;
    },
  };
}

describe('every context in one app: global guards, GraphQL and a plain WebSocket gateway', () => {
  let app: INestApplication;
  let host: string;
  const tokens: Record<string, string> = {};
  const events: AuditEvent[] = [];
  beforeAll(async () => {
    ({ app, host } = await boot(true, events));
    for (const name of Object.keys(USERS))
      tokens[name] = (await app.get(AuthService).login(name, 'pw')).access_token;
  });
  afterAll(() => app.close());

  it('GraphQL: a public query and a guarded one, coded errors', async () => {
    const http = request(app.getHttpServer());
    expect((await http.post('/graphql').send({ query: '{ hello }' })).body).toEqual({
      data: { hello: 'hi' },
    });
    const me = await http
      .post('/graphql')
      .set('Authorization', `Bearer ${tokens.bob}`)
      .send({ query: '{ me }' });
    expect(me.body).toEqual({ data: { me: 'bob' } });
    const refused = await http.post('/graphql').send({ query: '{ me }' });
    expect(refused.body.errors[0].extensions.code).toBe('AUTH_TOKEN_MISSING');
  });

  it('ws: the handshake token authenticates each message; @Roles per message, the socket stays', async () => {
    const client = wsClient(host, tokens.bob);
    expect(await client.ask('whoami')).toEqual({ event: 'whoami', data: { sub: 'bob' } });
    expect(await client.ask('admin')).toMatchObject({
      event: 'exception',
      data: { code: 'AUTH_ROLE_REQUIRED', statusCode: 403 },
    });
    expect(await client.ask('whoami')).toEqual({ event: 'whoami', data: { sub: 'bob' } });
    // Audited as an HTTP refusal is (global filters do not run on gateways).
    expect(events).toContainEqual(
      expect.objectContaining({
        event: 'access.refused',
        reason: 'AUTH_ROLE_REQUIRED',
        sub: 'bob',
      }),
    );
    const admin = wsClient(host, tokens.ann);
    expect(await admin.ask('admin')).toEqual({ event: 'admin', data: { ok: true } });
    client.socket.close();
    admin.socket.close();
  });

  it('ws: a handshake without a token is told why and closed with 4401', async () => {
    const client = wsClient(host);
    expect(await client.closed).toEqual({ code: 4401, reason: 'AUTH_TOKEN_MISSING' });
    expect(client.messages[0]).toMatchObject({
      event: 'exception',
      data: { code: 'AUTH_TOKEN_MISSING', message: expect.any(String) },
    });
  });

  it('ws: after logout the next message is refused and the socket closed', async () => {
    const { access_token } = await app.get(AuthService).login('bob', 'pw');
    const client = wsClient(host, access_token);
    expect(await client.ask('whoami')).toMatchObject({ event: 'whoami' });
    await app.get(AuthService).logoutAll({ sub: 'bob' } as AuthPrincipal);
    expect(await client.ask('whoami')).toMatchObject({
      event: 'exception',
      data: { code: 'AUTH_TOKEN_REVOKED' },
    });
    expect(await client.closed).toEqual({ code: 4401, reason: 'AUTH_TOKEN_REVOKED' });
  });

  it('ws: refuses a handshake with two Authorization headers, as HTTP does', async () => {
    const client = wsClient(host, [tokens.bob!, tokens.ann!]);
    expect(await client.closed).toEqual({ code: 4401, reason: 'AUTH_TOKEN_MALFORMED' });
  });

  // ann from here on: bob logged out everywhere above.
  it('ws: a @Public message sees no caller, even on an authenticated socket', async () => {
    const client = wsClient(host, tokens.ann);
    expect(await client.ask('whoami')).toMatchObject({ data: { sub: 'ann' } });
    expect(await client.ask('peek')).toEqual({ event: 'peek', data: { sub: null } });
    client.socket.close();
  });

  it('ws: forgets connections that closed during their handshake check', async () => {
    const connections = app.get<ConnectionAuth, { open: Set<unknown> }>(ConnectionAuth);
    const clients = Array.from({ length: 10 }, () => wsClient(host, tokens.slow));
    await Promise.all(clients.map((c) => c.opened));
    clients.forEach((c) => c.socket.terminate());
    await Promise.all(clients.map((c) => c.closed));
    await new Promise((resolve) => setTimeout(resolve, 400)); // a few rechecks
    expect(connections.open.size).toBe(0);
  });

  describe('a context TokenGuard cannot read (RPC)', () => {
    const rpc = (handler: () => void) => {
      const host = new ExecutionContextHost([{ pattern: 'x' }, {}], RpcHandlers, handler);
      host.setType('rpc');
      return host;
    };

    it('lets @Public handlers through and refuses others with a code naming the context', async () => {
      const guard = app.get(JwtAuthGuard);
      await expect(guard.canActivate(rpc(RpcHandlers.prototype.open))).resolves.toBe(true);
      const refusal = await guard
        .canActivate(rpc(RpcHandlers.prototype.guarded))
        .catch((error: unknown) => error);
      expect(isAuthError(refusal) && refusal.code).toBe('AUTH_CONTEXT_UNSUPPORTED');
      expect((refusal as Error).message).toMatch(/'rpc'.*@Public\(\).*globalGuards/);
    });

    it('never crashes the rate limit or roles guards; the filter hands the error on', async () => {
      await expect(
        app.get(RateLimitGuard).canActivate(rpc(RpcHandlers.prototype.guarded)),
      ).resolves.toBe(true);
      expect(app.get(RolesGuard).canActivate(rpc(RpcHandlers.prototype.guarded))).toBe(true);
      const filter = new AuthExceptionFilter(app.get(HttpAdapterHost), app.get(AuditService));
      const error = (await app
        .get(JwtAuthGuard)
        .canActivate(rpc(RpcHandlers.prototype.guarded))
        .catch((e: unknown) => e)) as AuthError;
      const answer = filter.catch(error, rpc(RpcHandlers.prototype.guarded)) as Observable<never>;
      await expect(lastValueFrom(answer)).rejects.toMatchObject({
        code: 'AUTH_CONTEXT_UNSUPPORTED',
      });
    });
  });
});

describe('a plain WebSocket gateway without the TokenGuard adapter', () => {
  let app: INestApplication;
  let host: string;
  beforeAll(async () => ({ app, host } = await boot(false)));
  afterAll(() => app.close());

  it('refuses guarded messages with a code that names the adapter; public ones pass', async () => {
    const client = wsClient(host);
    expect(await client.ask('ping')).toEqual({ event: 'pong', data: {} });
    const refused = await client.ask('whoami');
    expect(refused).toMatchObject({
      event: 'exception',
      data: { code: 'AUTH_CONTEXT_UNSUPPORTED' },
    });
    expect(String(refused.data.message)).toContain('createWsAdapter');
    client.socket.close();
  });
});
