import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { startDemo, type RunningDemo } from './support/demo-app';
import { accessCookie, listen } from './support/live';
import type { AuditEvent } from '../src/index';

interface ErrorBody {
  status: 'error';
  statusCode: number;
  code: string;
  message: string;
}

/** A socket.io client of the demo's /events namespace, over WebSocket only, never reconnecting. */
function connect(
  host: string,
  options: { token?: unknown; headers?: Record<string, string> } = {},
): Socket {
  return io(`http://${host}/events`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...('token' in options && { auth: { token: options.token } }),
    extraHeaders: options.headers,
  });
}

type ConnectError = Error & { data?: ErrorBody };

/** Resolves when connected; rejects with the `connect_error` (its `data` is the refusal). */
const connected = (socket: Socket) =>
  new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error: ConnectError) => reject(error));
  });

const refusal = async (socket: Socket): Promise<ErrorBody> => {
  try {
    await connected(socket);
  } catch (error) {
    return (error as ConnectError).data ?? ({} as ErrorBody);
  } finally {
    socket.close();
  }
  throw new Error('the connection was accepted');
};

describe('socket.io gateway (/events)', () => {
  let demo: RunningDemo;
  let host: string;
  const events: AuditEvent[] = [];
  beforeAll(async () => {
    const auditSink = { write: (event: AuditEvent) => void events.push(event) };
    demo = await startDemo({}, { auth: { connections: { recheckSeconds: 0.2 }, auditSink } });
    host = await listen(demo);
  });
  afterAll(() => demo.close());

  it('whoami answers the caller of the handshake token (auth.token, or the Authorization header)', async () => {
    const { access_token } = await demo.login('alice');
    for (const options of [
      { token: access_token },
      { headers: { authorization: `Bearer ${access_token}` } },
    ]) {
      const socket = connect(host, options);
      await connected(socket);
      expect(await socket.emitWithAck('whoami', {})).toEqual({
        sub: '1',
        username: 'alice',
        roles: ['admin'],
      });
      socket.close();
    }
  });

  it('refuses a handshake without a valid token with a connect_error carrying the code', async () => {
    const { access_token, refresh_token } = await demo.login('carol');
    expect(await refusal(connect(host))).toMatchObject({
      code: 'AUTH_TOKEN_MISSING',
      statusCode: 401,
      message: expect.any(String),
    });
    expect((await refusal(connect(host, { token: `${access_token.slice(0, -4)}AAAA` }))).code).toBe(
      'AUTH_TOKEN_SIGNATURE_INVALID',
    );
    expect((await refusal(connect(host, { token: refresh_token }))).code).toBe(
      'AUTH_TOKEN_WRONG_TYPE',
    );
    expect((await refusal(connect(host, { token: { nested: true } }))).code).toBe(
      'AUTH_TOKEN_MALFORMED',
    );
    // Audited as HTTP refusals are, with the client's address.
    expect(events).toContainEqual(
      expect.objectContaining({
        event: 'access.refused',
        reason: 'AUTH_TOKEN_SIGNATURE_INVALID',
        ip: '127.0.0.1',
      }),
    );
  });

  it('refuses an expired and a revoked token at the handshake', async () => {
    const expiring = (await demo.login('carol')).access_token;
    demo.clock.advance(16 * 60);
    try {
      expect((await refusal(connect(host, { token: expiring }))).code).toBe('AUTH_TOKEN_EXPIRED');
    } finally {
      demo.clock.advance(-16 * 60);
    }
    const revoked = (await demo.login('carol')).access_token;
    await demo.http.post('/auth/logout').set('Authorization', `Bearer ${revoked}`).expect(200);
    expect((await refusal(connect(host, { token: revoked }))).code).toBe('AUTH_TOKEN_REVOKED');
  });

  it('checks @Roles per message: admin:ping for admins, a coded error for others, the socket stays', async () => {
    const admin = connect(host, { token: (await demo.login('alice')).access_token });
    await connected(admin);
    expect(await admin.emitWithAck('admin:ping', {})).toEqual({ ok: true });
    admin.close();

    const user = connect(host, { token: (await demo.login('carol')).access_token });
    await connected(user);
    const exception = new Promise<ErrorBody>((resolve) => user.once('exception', resolve));
    expect(await user.emitWithAck('admin:ping', {})).toMatchObject({
      code: 'AUTH_ROLE_REQUIRED',
      statusCode: 403,
    });
    expect((await exception).code).toBe('AUTH_ROLE_REQUIRED');
    expect(await user.emitWithAck('whoami', {})).toMatchObject({ username: 'carol' });
    user.close();
  });

  it.each([
    ['logout', '/auth/logout'],
    ['logout everywhere', '/auth/logout-all'],
  ])('disconnects a live socket after %s, within the recheck interval', async (_name, path) => {
    const { access_token } = await demo.login('bob');
    const socket = connect(host, { token: access_token });
    await connected(socket);
    const told = new Promise<ErrorBody>((resolve) => socket.once('exception', resolve));
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    const start = performance.now();
    await demo.http.post(path).set('Authorization', `Bearer ${access_token}`).expect(200);
    expect((await told).code).toBe('AUTH_TOKEN_REVOKED');
    expect(await gone).toBe('io server disconnect');
    console.log(
      `socket ended ${(performance.now() - start).toFixed(0)} ms after ${path} (recheck 200 ms)`,
    );
    demo.clock.advance(1); // the next login must come after this logout-everywhere instant
  });
});

describe('socket.io gateway: a message after logout, before any recheck', () => {
  let demo: RunningDemo;
  let host: string;
  beforeAll(async () => {
    demo = await startDemo({}, { auth: { connections: { recheckSeconds: 3600 } } });
    host = await listen(demo);
  });
  afterAll(() => demo.close());

  it('refuses the next message with the code and disconnects', async () => {
    const { access_token } = await demo.login('carol');
    const socket = connect(host, { token: access_token });
    await connected(socket);
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await demo.http.post('/auth/logout').set('Authorization', `Bearer ${access_token}`).expect(200);
    expect(await socket.emitWithAck('whoami', {})).toMatchObject({ code: 'AUTH_TOKEN_REVOKED' });
    expect(await gone).toBe('io server disconnect');
  });

  it('refuses the next message once the token has expired', async () => {
    const { access_token } = await demo.login('bob');
    const socket = connect(host, { token: access_token });
    await connected(socket);
    demo.clock.advance(16 * 60);
    try {
      expect(await socket.emitWithAck('whoami', {})).toMatchObject({ code: 'AUTH_TOKEN_EXPIRED' });
    } finally {
      demo.clock.advance(-16 * 60);
      socket.close();
    }
  });
});

describe('socket.io gateway with the cookie transport', () => {
  let demo: RunningDemo;
  let host: string;
  beforeAll(async () => {
    demo = await startDemo({ TOKEN_LOCATION: 'cookies', COOKIE_SECURE: 'false' });
    host = await listen(demo);
  });
  afterAll(() => demo.close());

  const cookie = () => accessCookie(demo);

  it('accepts the handshake cookie from the same origin', async () => {
    const socket = connect(host, { headers: { cookie: await cookie(), origin: `http://${host}` } });
    await connected(socket);
    expect(await socket.emitWithAck('whoami', {})).toMatchObject({ username: 'carol' });
    socket.close();
  });

  it('refuses a cookie-authenticated handshake from a foreign origin', async () => {
    const socket = connect(host, {
      headers: { cookie: await cookie(), origin: 'https://evil.example' },
    });
    expect(await refusal(socket)).toMatchObject({ code: 'AUTH_ORIGIN_REFUSED', statusCode: 403 });
  });
});

describe('socket.io gateway: handshakes count against the rate limit', () => {
  let demo: RunningDemo;
  let host: string;
  beforeAll(async () => {
    demo = await startDemo({ RATE_LIMIT: '3/60s' });
    host = await listen(demo);
  });
  afterAll(() => demo.close());

  it('refuses the handshake over the limit with AUTH_RATE_LIMITED', async () => {
    const { access_token } = await demo.login('carol');
    for (let i = 0; i < 3; i++) {
      const socket = connect(host, { token: access_token });
      await connected(socket);
      socket.close();
    }
    expect(await refusal(connect(host, { token: access_token }))).toMatchObject({
      code: 'AUTH_RATE_LIMITED',
      statusCode: 429,
    });
  });
});
