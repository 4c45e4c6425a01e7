import fc from 'fast-check';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { startDemo, type RunningDemo } from './support/demo-app';
import { collect, gqlClient, listen } from './support/live';

/**
 * Hostile handshake payloads: socket.io `auth` objects and graphql-ws `connection_init` payloads
 * of every JSON type and size, and raw frames. Each must be refused with a code (ours, or the
 * protocol's own for a frame that is not one), never a crash, an internal error close (1011,
 * 4500) or an unhandled rejection; the server keeps serving afterwards. Random seed, as the
 * other properties; fast-check prints seed and path to replay a failure.
 */
describe('hostile connection payloads', () => {
  let demo: RunningDemo;
  let host: string;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    demo = await startDemo();
    host = await listen(demo);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await demo.close();
  });

  const tokenLike = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ maxLength: 200 }),
    fc.string({ minLength: 8000, maxLength: 20000 }),
    fc
      .tuple(fc.base64String(), fc.base64String(), fc.base64String())
      .map((parts) => parts.join('.')),
    fc.string().map((s) => `Bearer ${s}`),
  );

  it('socket.io: any auth object gets a connect_error with a TokenGuard code', async () => {
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ token: tokenLike }),
          fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })),
        ),
        async (auth) => {
          const socket = io(`http://${host}/events`, {
            transports: ['websocket'],
            reconnection: false,
            forceNew: true,
            auth: auth as Record<string, unknown>,
          });
          try {
            const data = await new Promise<{ code?: string; statusCode?: number }>((resolve) => {
              socket.once('connect', () => resolve({ code: 'CONNECTED' }));
              socket.once('connect_error', (error: Error & { data?: { code?: string } }) =>
                resolve(error.data ?? { code: error.message }),
              );
            });
            expect(data.code).toMatch(/^AUTH_TOKEN_/);
            expect(data.statusCode).toBe(401);
            codes.set(String(data.code), (codes.get(String(data.code)) ?? 0) + 1);
          } finally {
            socket.close();
          }
        },
      ),
      { numRuns: 60 },
    );
    console.log(`socket.io refusals: ${JSON.stringify([...codes])}`);
  });

  it('graphql-ws: any connection_init payload, or any frame, closes with a protocol or auth code', async () => {
    const closes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .jsonValue({ maxDepth: 3 })
            .map((payload) => JSON.stringify({ type: 'connection_init', payload })),
          fc
            .record({ authorization: tokenLike })
            .map((payload) => JSON.stringify({ type: 'connection_init', payload })),
          fc.jsonValue({ maxDepth: 2 }).map((frame) => JSON.stringify(frame)),
          fc.string({ maxLength: 300 }),
        ),
        async (frame) => {
          const socket = new WebSocket(`ws://${host}/graphql`, 'graphql-transport-ws');
          const closed = new Promise<number>((resolve) => socket.on('close', resolve));
          let acked = false;
          socket.on('message', (raw: Buffer) => {
            if (raw.toString().includes('connection_ack')) acked = true;
          });
          await new Promise((resolve) => socket.once('open', resolve));
          socket.send(frame);
          // A connection_init must be answered by a close; a frame that is not one may also be
          // ignored (Mercurius does), which is no failure as long as nothing is acknowledged.
          const init = frame.includes('"type":"connection_init"');
          const outcome = await Promise.race([
            closed,
            new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), init ? 5000 : 200)),
          ]);
          socket.close();
          expect(acked).toBe(false);
          if (init) expect(outcome).not.toBe('open');
          if (outcome !== 'open') expect([1000, 1005, 4400, 4401, 4403, 4429]).toContain(outcome);
          closes.set(String(outcome), (closes.get(String(outcome)) ?? 0) + 1);
        },
      ),
      { numRuns: 60 },
    );
    console.log(`graphql-ws close codes: ${JSON.stringify([...closes])}`);
  });

  it('keeps serving valid connections and saw no unhandled rejection', async () => {
    const { access_token } = await demo.login('carol');
    const { client } = gqlClient(host, { authorization: `Bearer ${access_token}` });
    const ticks = collect(client, 'subscription { ticks }');
    await ticks.next(1);
    await client.dispose();
    const socket = io(`http://${host}/events`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: access_token },
    });
    await new Promise((resolve) => socket.once('connect', () => resolve(undefined)));
    expect(await socket.emitWithAck('whoami', {})).toMatchObject({ username: 'carol' });
    socket.close();
    expect(rejections).toEqual([]);
  });
});
