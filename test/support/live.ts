import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { cookieHeader, setCookies } from './cookies';
import type { RunningDemo } from './demo-app';

/** Starts the demo listening on an ephemeral loopback port; resolves its base URL (no scheme). */
export async function listen(demo: RunningDemo): Promise<string> {
  await demo.app.listen(0, '127.0.0.1');
  const server = demo.app.getHttpServer() as Server;
  const { port } = server.address() as AddressInfo;
  return `127.0.0.1:${port}`;
}

/** Logs carol in on a cookie-mode demo; the Cookie header with her access cookie. */
export async function accessCookie(demo: RunningDemo): Promise<string> {
  const res = await demo.http
    .post('/auth/login')
    .send({ username: 'carol', password: 'carol-password' })
    .expect(200);
  return cookieHeader(setCookies(res), 'tg_access');
}

/** How a WebSocket connection ended. */
export interface Closed {
  code: number;
  reason: string;
}

/** A graphql-ws client that never retries, with optional handshake headers (cookie, origin). */
export function gqlClient(
  host: string,
  connectionParams: unknown,
  headers: Record<string, string> = {},
): { client: Client; closed: Promise<Closed> } {
  let resolveClosed: (closed: Closed) => void = () => undefined;
  const closed = new Promise<Closed>((resolve) => (resolveClosed = resolve));
  class HeaderSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const client = createClient({
    url: `ws://${host}/graphql`,
    webSocketImpl: HeaderSocket,
    connectionParams: connectionParams as Record<string, unknown>,
    lazy: false,
    retryAttempts: 0,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        resolveClosed({ code, reason: String(reason) });
      },
    },
    onNonLazyError: () => undefined,
  });
  return { client, closed };
}

/** Collects a subscription's events; `next` resolves on the n-th one. */
export function collect(client: Client, query: string) {
  const values: unknown[] = [];
  const errors: unknown[] = [];
  let done = false;
  const waiters: { n: number; resolve: () => void }[] = [];
  const stop = client.subscribe(
    { query },
    {
      next: (value) => {
        values.push(value);
        for (const w of waiters.filter((w) => values.length >= w.n)) w.resolve();
      },
      error: (error) => errors.push(error),
      complete: () => (done = true),
    },
  );
  return {
    values,
    errors,
    get done() {
      return done;
    },
    stop,
    next: (n: number) =>
      new Promise<void>((resolve) =>
        values.length >= n ? resolve() : waiters.push({ n, resolve }),
      ),
  };
}
