import type { LoggerService } from '@nestjs/common';
import {
  RevocationService,
  RevocationStore,
  type AuditEvent,
  type AuditSink,
  type TokenRef,
} from '../src/index';
import { decode } from './support/forge';
import { PASSWORDS, startDemo, type RunningDemo } from './support/demo-app';

const AGENT = 'audit-test/1.0';

/** Every line the app logs, with its context, as the default audit sink writes through it. */
class CapturingLogger implements LoggerService {
  readonly lines: { context: string; message: string }[] = [];
  log = (message: unknown, context?: string) => this.push(message, context);
  error = (message: unknown, ...rest: unknown[]) => this.push(message, String(rest.at(-1)));
  warn = (message: unknown, context?: string) => this.push(message, context);
  debug = (message: unknown, context?: string) => this.push(message, context);
  verbose = (message: unknown, context?: string) => this.push(message, context);
  private push(message: unknown, context = '') {
    this.lines.push({ context, message: String(message) });
  }
  events(): AuditEvent[] {
    return this.lines
      .filter((l) => l.context === 'Audit')
      .map((l) => JSON.parse(l.message) as AuditEvent);
  }
}

describe('audit trail (default sink: JSON lines through Nest logger)', () => {
  let demo: RunningDemo;
  const logger = new CapturingLogger();
  const written: string[] = [];
  const secrets: string[] = [];
  let restore: () => void;

  beforeAll(async () => {
    // Everything the process prints during the run is scanned for secrets, not just the logger.
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    process.stdout.write = (chunk: unknown, ...rest: never[]) => {
      written.push(String(chunk));
      return out(chunk as string, ...rest);
    };
    process.stderr.write = (chunk: unknown, ...rest: never[]) => {
      written.push(String(chunk));
      return err(chunk as string, ...rest);
    };
    restore = () => {
      process.stdout.write = out;
      process.stderr.write = err;
    };
    demo = await startDemo({ LOGIN_RATE_LIMIT: '5/60s' }, { logger });
    secrets.push(demo.secret, ...Object.values(PASSWORDS), 'wrong-password-123');
    await runFullFlow();
  });
  afterAll(async () => {
    restore();
    await demo.close();
  });

  const send = <T extends { set(name: string, value: string): T }>(req: T, token?: string) => {
    const withAgent = req.set('User-Agent', AGENT);
    return token ? withAgent.set('Authorization', `Bearer ${token}`) : withAgent;
  };

  /** login, failed login, refresh, reuse, refusals, revocation, logout, logout-all, rate limit. */
  async function runFullFlow() {
    const login = (username: string, password: string) =>
      send(demo.http.post('/auth/login')).send({ username, password });
    const first = (await login('alice', PASSWORDS.alice).expect(200)).body as Pair;
    await login('alice', 'wrong-password-123').expect(401);
    const second = (
      await send(demo.http.post('/auth/refresh'))
        .send({ refresh_token: first.refresh_token })
        .expect(200)
    ).body as Pair;
    await send(demo.http.post('/auth/refresh'))
      .send({ refresh_token: first.refresh_token })
      .expect(200); // a retry within the grace window
    demo.clock.advance(31);
    await send(demo.http.post('/auth/refresh'))
      .send({ refresh_token: first.refresh_token })
      .expect(401); // reuse: the session is ended
    await send(demo.http.get('/protected'), `${second.access_token}x`).expect(401);
    const carol = (await login('carol', PASSWORDS.carol).expect(200)).body as Pair;
    await send(demo.http.get('/admin/users'), carol.access_token).expect(403);
    const bob = (await login('bob', PASSWORDS.bob).expect(200)).body as Pair;
    await demo.app
      .get(RevocationService)
      .revokeToken(decode(bob.access_token).payload as { jti: string; exp: number; sub: string });
    const bob2 = (await login('bob', PASSWORDS.bob).expect(200)).body as Pair;
    await send(demo.http.post('/auth/logout'), bob2.access_token).expect(200);
    await send(demo.http.post('/auth/logout-all'), carol.access_token).expect(200);
    await login('bob', PASSWORDS.bob).expect(429); // the 6th login this minute
    secrets.push(
      ...[first, second, carol, bob, bob2].flatMap((p) => [p.access_token, p.refresh_token]),
    );
  }

  const eventsNamed = (name: string) => logger.events().filter((e) => e.event === name);

  it.each([
    ['login.succeeded', undefined, { sub: '1', sid: expect.any(String) }],
    ['login.failed', 'AUTH_INVALID_CREDENTIALS', {}],
    ['token.issued', undefined, { sub: '1', sid: expect.any(String), jti: expect.any(String) }],
    ['token.refreshed', undefined, { sub: '1', sid: expect.any(String), jti: expect.any(String) }],
    ['refresh.replayed', undefined, { sub: '1', sid: expect.any(String), jti: expect.any(String) }],
    [
      'refresh.reused',
      'AUTH_REFRESH_REUSED',
      { sub: '1', sid: expect.any(String), jti: expect.any(String) },
    ],
    ['access.refused', 'AUTH_TOKEN_SIGNATURE_INVALID', {}],
    [
      'access.refused',
      'AUTH_ROLE_REQUIRED',
      { sub: '3', sid: expect.any(String), jti: expect.any(String) },
    ],
    ['token.revoked', undefined, { jti: expect.any(String), sub: '2' }],
    ['session.revoked', undefined, { sub: '2', sid: expect.any(String), jti: expect.any(String) }],
    ['logout.everywhere', undefined, { sub: '3' }],
    ['rate.limited', 'AUTH_RATE_LIMITED', {}],
  ])('emits %s (%s) with its fields', (name, reason, fields) => {
    const matching = eventsNamed(name).filter((e) => e.reason === reason);
    expect(matching.length).toBeGreaterThan(0);
    const event = matching[0]!;
    expect(event).toMatchObject({
      event: name,
      outcome: reason ? 'failure' : 'success',
      ...(reason && { reason }),
      ...fields,
    });
    expect(new Date(event.time).toISOString()).toBe(event.time);
    // Every event here came from a request: the client is named.
    if (name !== 'token.revoked') {
      expect(event).toMatchObject({ ip: '127.0.0.1', userAgent: AGENT });
    }
  });

  it('never writes a token, a password or a secret anywhere: audit events, logs or stdout/stderr', () => {
    const output = [...logger.lines.map((l) => l.message), ...written].join('\n');
    expect(logger.events().length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(output).not.toContain(secret);
      // Nor a token's signature alone.
      const signature = secret.split('.')[2];
      if (signature) expect(output).not.toContain(signature);
    }
  });
});

describe('audit of store outages, and a failing sink', () => {
  /** A store that cannot answer, to see the outage reported. */
  class DownStore extends RevocationStore {
    override readonly boundsItsCalls = true;
    private fail(): Promise<never> {
      return Promise.reject(new Error('connection refused'));
    }
    isRevoked = (_: TokenRef) => this.fail();
    startSession = () => this.fail();
    rotate = () => this.fail();
    revokeToken = () => this.fail();
    revokeSession = () => this.fail();
    revokeUser = () => this.fail();
  }

  it('emits store.unavailable with the code, and a sink that throws or rejects fails no request', async () => {
    const events: AuditEvent[] = [];
    let calls = 0;
    const sink: AuditSink = {
      write(event) {
        events.push(event);
        calls += 1;
        if (calls % 2) throw new Error('sink down');
        return Promise.reject(new Error('sink down'));
      },
    };
    const demo = await startDemo(
      {},
      { auth: { auditSink: sink, revocation: { store: new DownStore() } } },
    );
    try {
      const res = await demo.http
        .post('/auth/login')
        .send({ username: 'alice', password: PASSWORDS.alice })
        .expect(503);
      expect(res.body.code).toBe('AUTH_STORE_UNAVAILABLE');
      expect(events).toContainEqual(
        expect.objectContaining({ event: 'store.unavailable', reason: 'AUTH_STORE_UNAVAILABLE' }),
      );
      await demo.http.post('/auth/login').send({ username: 'alice', password: 'x' }).expect(401);
      expect(events.length).toBeGreaterThanOrEqual(2);
    } finally {
      await demo.close();
    }
  });
});

describe('suspicious activity hook (demo: a session stays with its first user agent)', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo()));
  afterAll(() => demo.close());

  const protectedAs = (agent: string, token: string) =>
    demo.http.get('/protected').set('User-Agent', agent).set('Authorization', `Bearer ${token}`);

  it('refuses a token replayed from another user agent and revokes its session', async () => {
    const pair = await demo.login('alice');
    const get = (agent: string) => protectedAs(agent, pair.access_token);
    await get('browser-A').expect(200);
    await get('browser-A').expect(200);
    const refused = await get('curl/8').expect(401);
    expect(refused.body.code).toBe('AUTH_TOKEN_REFUSED');
    expect(refused.headers['www-authenticate']).toContain('invalid_token');
    // The session is over, for its owner too, and its refresh token is dead.
    expect((await get('browser-A').expect(401)).body.code).toBe('AUTH_TOKEN_REVOKED');
    await demo.http.post('/auth/refresh').send({ refresh_token: pair.refresh_token }).expect(401);
  });

  it('sees refreshes too: a refresh token used from another user agent ends the session', async () => {
    const pair = await demo.login('carol');
    await protectedAs('browser-A', pair.access_token).expect(200);
    const refused = await demo.http
      .post('/auth/refresh')
      .set('User-Agent', 'elsewhere')
      .send({ refresh_token: pair.refresh_token })
      .expect(401);
    expect(refused.body.code).toBe('AUTH_TOKEN_REFUSED');
    await protectedAs('browser-A', pair.access_token).expect(401);
  });

  it('leaves other sessions alone', async () => {
    const mine = await demo.login('bob');
    const other = await demo.login('bob');
    await protectedAs('A', mine.access_token).expect(200);
    await protectedAs('B', other.access_token).expect(200);
  });
});

interface Pair {
  access_token: string;
  refresh_token: string;
}
