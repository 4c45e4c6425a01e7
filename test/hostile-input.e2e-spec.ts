import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Script } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { MAX_TOKEN_LENGTH } from '../src/auth.constants';
import { startDemo, type RunningDemo } from './support/demo-app';
import { decode, forgeHmac } from './support/forge';

/** The e2e-fastify Jest project runs this suite on the Fastify demo, which reads no gzip. */
const ON_FASTIFY = (globalThis as { DEMO_ADAPTER?: string }).DEMO_ADAPTER === 'fastify';
/** What the assertions read of a response, from supertest or from a raw request. */
interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** Property runs, sized for a 2-core machine: a login that reaches argon2 costs about 50 ms. */
const RUNS = { tokens: 800, jsonBodies: 250, rawBodies: 300 };
const TOTAL_RUNS = RUNS.tokens + RUNS.jsonBodies + RUNS.rawBodies;
const SLOW = 60_000;

/**
 * Hostile input gets a coded 4xx, never a 5xx or a crash, and changes nothing: explicit cases
 * first, then fast-check properties over random and mutated tokens and request bodies. Seeds are
 * random; fast-check prints the seed and path of any failure, to replay it with `{ seed, path }`.
 */
describe('hostile input', () => {
  let demo: RunningDemo;
  let port: number;
  let earlier: { access_token: string; refresh_token: string };
  let cases = 0;
  /** How the property cases were answered (`status code` -> count), printed at the end. */
  const outcomes = new Map<string, number>();
  const tally = (res: Reply) => {
    cases += 1;
    const outcome = `${res.status} ${typeof res.body.code === 'string' ? res.body.code : ''}`;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  };

  // Jest gives each test file its own copy of `process`, whose events never fire: listen on the
  // real one (this script runs in the host's context), where Node reports unhandled rejections.
  const hostProcess = new Script('process').runInThisContext() as NodeJS.Process;
  const rejections: unknown[] = [];
  const recordRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    hostProcess.on('unhandledRejection', recordRejection);
    // Limits off: these requests are many, and the rate limits have their own tests.
    demo = await startDemo({
      LOGIN_RATE_LIMIT: '100000/60s',
      RATE_LIMIT: '100000/60s',
      LOGIN_LOCKOUT: 'off',
    });
    await demo.app.listen(0, '127.0.0.1');
    port = ((demo.app.getHttpServer() as Server).address() as AddressInfo).port;
    earlier = await demo.login('alice');
  });

  afterAll(async () => {
    hostProcess.off('unhandledRejection', recordRejection);
    await demo?.close();
  });

  /** A request as sent, headers as a flat [name, value, ...] list so a name can repeat. */
  function raw(
    method: string,
    path: string,
    headers: string[],
    body?: string | Buffer,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          headers: ['Host', `127.0.0.1:${port}`, ...headers],
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Reply['body'] = { text };
            try {
              parsed = JSON.parse(text) as Reply['body'];
            } catch {
              // not JSON: kept as { text }, which the assertions on `code` will show
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Writes bytes on a socket and returns the status line of whatever comes back. */
  function rawSocket(bytes: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('error', () => {}); // the server may close while we still write: that is fine
      socket.on('close', () => resolve(received.split('\r\n')[0] ?? ''));
    });
  }

  const get = (token: string) =>
    demo.http.get('/protected').set('Authorization', `Bearer ${token}`);

  /** Status and code first (the clearest failure), then the whole body and the 401 challenge. */
  function expectRefused(res: Reply, status: number, code: string): void {
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.body).toEqual({ statusCode: status, code, message: expect.any(String) });
    if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  }

  const b64 = (text: string) => Buffer.from(text).toString('base64url');

  describe('bearer tokens', () => {
    it('refuses a token over MAX_TOKEN_LENGTH as too large, before parsing it', async () => {
      // Garbage that would be AUTH_TOKEN_MALFORMED if it were parsed at all.
      expectRefused(await get('!'.repeat(MAX_TOKEN_LENGTH + 1)), 401, 'AUTH_TOKEN_TOO_LARGE');
      expectRefused(
        await get(`${earlier.access_token}.${'A'.repeat(MAX_TOKEN_LENGTH)}`),
        401,
        'AUTH_TOKEN_TOO_LARGE',
      );
      expectRefused(await get('!'.repeat(MAX_TOKEN_LENGTH)), 401, 'AUTH_TOKEN_MALFORMED');
    });

    it.each([
      ['bad base64 in the header', `!!!.${b64('{}')}.sig`],
      ['bad base64 in the payload', `${b64('{"alg":"HS256"}')}.%%%.sig`],
      ['a base64 header that is not JSON', `${b64('{"alg":')}.${b64('{}')}.sig`],
      ['a header that is a JSON string', `${b64('"HS256"')}.${b64('{}')}.sig`],
      ['a header that is JSON null', `${b64('null')}.${b64('{}')}.sig`],
      ['four segments', 'a.b.c.d'],
      ['non-ASCII characters', 'é.é.é'],
    ])('refuses a malformed token: %s', async (_name, token) => {
      expectRefused(await get(token), 401, 'AUTH_TOKEN_MALFORMED');
    });

    it('refuses a payload that is not JSON even when signed with the right key', async () => {
      const header = earlier.access_token.split('.')[0] ?? '';
      for (const payload of ['not json', '{"sub":', '[1,2]', '"a string"', '42']) {
        const input = `${header}.${b64(payload)}`;
        const sig = createHmac('sha256', demo.secret).update(input).digest('base64url');
        expectRefused(await get(`${input}.${sig}`), 401, 'AUTH_TOKEN_MALFORMED');
      }
    });

    it('refuses duplicate Authorization headers as a malformed token, whichever is valid', async () => {
      const valid = `Bearer ${earlier.access_token}`;
      for (const [first, second] of [
        [valid, valid],
        [valid, 'Bearer junk'],
        ['Bearer junk', valid],
        ['Basic eDp5', valid],
        [valid, 'Basic eDp5'],
      ] as const) {
        const res = await raw('GET', '/protected', [
          'Authorization',
          first,
          'authorization',
          second,
        ]);
        expectRefused(res, 401, 'AUTH_TOKEN_MALFORMED');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
      }
      // The refresh route reads the same header: two refresh tokens are refused too.
      const refresh = `Bearer ${earlier.refresh_token}`;
      expectRefused(
        await raw('POST', '/auth/refresh', ['Authorization', refresh, 'Authorization', refresh]),
        401,
        'AUTH_TOKEN_MALFORMED',
      );
      // One header is still fine.
      expect((await raw('GET', '/protected', ['Authorization', valid])).status).toBe(200);
    });

    it('answers a header block over the server limit with 431 and keeps serving', async () => {
      for (const bytes of [
        `GET /protected HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'A'.repeat(20_000)}\r\n\r\n`,
        `GET /health HTTP/1.1\r\nHost: x\r\nX-Junk: ${'x'.repeat(20_000)}\r\n\r\n`,
        `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      ]) {
        expect(await rawSocket(bytes)).toMatch(/^HTTP\/1\.1 431 /);
        await demo.http.get('/health').expect(200);
      }
    });
  });

  describe('request bodies', () => {
    const login = () => demo.http.post('/auth/login');

    it.each([
      ['form-encoded', 'application/x-www-form-urlencoded', 'username=alice&password=x'],
      ['plain text', 'text/plain', '{"username":"alice","password":"alice-password"}'],
      ['XML', 'application/xml', '<login/>'],
      ['multipart', 'multipart/form-data; boundary=x', '--x--'],
      ['a JSON-like type', 'application/problem+json', '{}'],
    ])('refuses a %s body with 415', async (_name, type, body) => {
      for (const path of ['/auth/login', '/auth/refresh']) {
        const res = await demo.http.post(path).set('Content-Type', type).send(body);
        expectRefused(res, 415, 'REQUEST_UNSUPPORTED_MEDIA_TYPE');
      }
    });

    it('refuses a body without a Content-Type, or in another charset or encoding, with 415', async () => {
      expectRefused(
        await raw(
          'POST',
          '/auth/login',
          ['Content-Length', '31'],
          '{"username":"a","password":"b"}',
        ),
        415,
        'REQUEST_UNSUPPORTED_MEDIA_TYPE',
      );
      // Chunked with no Content-Type is let through unread (see requireJsonBody): no fields.
      expectRefused(
        await raw('POST', '/auth/login', [], '{"username":"a","password":"b"}'),
        400,
        'AUTH_REQUEST_INVALID',
      );
      // UTF-7 and UTF-16 would decode (`+AGM-arol` is carol in UTF-7) past filters that read UTF-8.
      const utf16 = Buffer.from('{"username":"carol","password":"carol-password"}', 'utf16le');
      for (const [charset, body] of [
        ['koi8-r', '{}'],
        ['utf-7', '{"username":"+AGM-arol","password":"carol-password"}'],
        ['UTF-16LE', utf16],
        ['utf-32', '{}'],
        ['utf8', '{}'],
      ] as const) {
        const type = `application/json; charset=${charset}`;
        const res = await raw('POST', '/auth/login', ['Content-Type', type], body);
        expectRefused(res, 415, 'REQUEST_UNSUPPORTED_MEDIA_TYPE');
      }
      expectRefused(
        await raw(
          'POST',
          '/auth/login',
          ['Content-Type', 'application/json', 'Content-Encoding', 'x-compress'],
          '{}',
        ),
        415,
        'REQUEST_UNSUPPORTED_MEDIA_TYPE',
      );
    });

    it('takes UTF-8 however the charset parameter is written', async () => {
      const credentials = '{"username":"carol","password":"carol-password"}';
      for (const type of [
        'application/json; charset=utf-8',
        'application/json;charset=UTF-8',
        'application/json; charset="utf-8"',
      ]) {
        const res = await raw('POST', '/auth/login', ['Content-Type', type], credentials);
        expect({ type, status: res.status }).toEqual({ type, status: 200 });
      }
    });

    it('still takes a POST with no body at all, whatever its Content-Type', async () => {
      const { refresh_token } = await demo.login('bob');
      await demo.http
        .post('/auth/refresh')
        .set('Authorization', `Bearer ${refresh_token}`)
        .set('Content-Type', 'application/x-www-form-urlencoded') // an empty cross-site form
        .expect(200);
      // Node's http.request sends a bare POST as an empty chunked body, with no Content-Type.
      const { refresh_token: next } = await demo.login('bob');
      const chunked = await raw('POST', '/auth/refresh', [
        'Authorization',
        `Bearer ${next}`,
        'Transfer-Encoding',
        'chunked',
      ]);
      expect(chunked.status).toBe(200);
    });

    it('refuses a body over 16 kB with 413: sized, chunked, or inflated from gzip', async () => {
      const big = JSON.stringify({ username: 'a'.repeat(17_000), password: 'x' });
      expectRefused(
        await login().set('Content-Type', 'application/json').send(big),
        413,
        'REQUEST_TOO_LARGE',
      );
      const chunked = await raw(
        'POST',
        '/auth/login',
        ['Content-Type', 'application/json', 'Transfer-Encoding', 'chunked'],
        big,
      );
      expectRefused(chunked, 413, 'REQUEST_TOO_LARGE');
      // A few hundred bytes on the wire, a megabyte once inflated: the limit is on what is read.
      const bomb = gzipSync(JSON.stringify({ username: ' '.repeat(1_000_000), password: 'x' }));
      expect(bomb.length).toBeLessThan(16 * 1024);
      const inflated = await raw(
        'POST',
        '/auth/login',
        ['Content-Type', 'application/json', 'Content-Encoding', 'gzip'],
        bomb,
      );
      // Express inflates under the limit; the Fastify demo reads no compressed body at all.
      if (ON_FASTIFY) expectRefused(inflated, 415, 'REQUEST_UNSUPPORTED_MEDIA_TYPE');
      else expectRefused(inflated, 413, 'REQUEST_TOO_LARGE');
    });

    it.each([
      ['malformed JSON', '{"username": "alice",'],
      ['JSON null', 'null'],
      ['a JSON string', '"alice"'],
      ['a JSON number', '42'],
      ['an unknown field', '{"username":"alice","password":"alice-password","admin":true}'],
      ['an ill-typed field', '{"username":["alice"],"password":"alice-password"}'],
      ['deeply nested JSON', `{"username":${'['.repeat(5000)}${']'.repeat(5000)}}`],
      ['a deep object', `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`],
      ['gzip that is not gzip', Buffer.from('{"username":"alice"}')],
    ])('refuses %s with 400', async (name, body) => {
      const headers = ['Content-Type', 'application/json'];
      if (name.startsWith('gzip')) headers.push('Content-Encoding', 'gzip');
      const res = await raw('POST', '/auth/login', headers, body);
      if (ON_FASTIFY && name.startsWith('gzip')) {
        expectRefused(res, 415, 'REQUEST_UNSUPPORTED_MEDIA_TYPE');
        return;
      }
      expectRefused(res, 400, 'AUTH_REQUEST_INVALID');
      expect(JSON.stringify(res.body)).not.toMatch(/alice|Unexpected|position/); // no echo
    });

    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
      'refuses a body with the key "%s", at any depth, with 400',
      async (key) => {
        const credentials = '"username":"carol","password":"carol-password"';
        for (const body of [
          `{${credentials},"${key}":"x"}`,
          `{${credentials},"a":{"${key}":{}}}`,
        ]) {
          const res = await raw('POST', '/auth/login', ['Content-Type', 'application/json'], body);
          expectRefused(res, 400, 'AUTH_REQUEST_INVALID');
        }
      },
    );

    it('names no unknown field in its answer, and answers many in one short message', async () => {
      const fields = Array.from({ length: 500 }, (_, i) => `"<img src=x>${i}":1`).join(',');
      const body = `{"username":"carol","password":"x",${fields}}`;
      const res = await raw('POST', '/auth/login', ['Content-Type', 'application/json'], body);
      expectRefused(res, 400, 'AUTH_REQUEST_INVALID');
      expect(String(res.body.message)).not.toContain('<img');
      expect(String(res.body.message).length).toBeLessThan(200);
    });

    it('answers an unknown route with a coded 404', async () => {
      expectRefused(await demo.http.get('/nope'), 404, 'NOT_FOUND');
      expectRefused(await demo.http.put('/auth/login').send({}), 404, 'NOT_FOUND');
    });

    it('answers a path that is not valid percent-encoding with a coded 404 and every header', async () => {
      for (const path of ['/%', '/%3Cimg%20src=x%3E%', '/protected%', '/%FF']) {
        const res = await raw('GET', path, []);
        expectRefused(res, 404, 'NOT_FOUND');
        expect(String(res.body.message)).not.toContain('img');
        expect(res.headers['content-security-policy']).toContain("default-src 'self'");
        expect(res.headers['x-frame-options']).toBe('DENY');
      }
    });

    it('gives a request 30 s to arrive whole (slow bodies do not hold connections for long)', () => {
      expect((demo.app.getHttpServer() as Server).requestTimeout).toBe(30_000);
    });

    it('keeps an unexpected server error a generic 500 that leaks nothing', async () => {
      const spy = jest.spyOn(demo.users, 'findById').mockImplementation(() => {
        throw new Error('database password is hunter2');
      });
      try {
        const res = await get(earlier.access_token).expect(500);
        expect(res.body).toEqual({ statusCode: 500, message: 'Internal server error' });
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('properties (fast-check, random seed)', () => {
    /** Characters Node lets a client put in a header value. */
    const headerChar = fc.oneof(
      {
        weight: 10,
        arbitrary: fc.constantFrom(
          ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.',
        ),
      },
      {
        weight: 3,
        arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      },
      {
        weight: 1,
        arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
      },
      { weight: 1, arbitrary: fc.constant('\t') },
    );
    const headerString = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
    const trimmed = (value: string) => value.replace(/^[ \t]+|[ \t]+$/g, '');

    it(
      `refuses random and mutated bearer tokens with a coded 401 (${RUNS.tokens} runs)`,
      async () => {
        const valid = earlier.access_token;
        const segments = valid.split('.');
        const { header, payload } = decode(valid);
        const now = Math.floor(Number(payload.iat));

        const edit = fc.oneof(
          fc.record({ op: fc.constant('flip'), at: fc.nat(), char: headerChar }),
          fc.record({ op: fc.constant('insert'), at: fc.nat(), char: headerChar }),
          fc.record({ op: fc.constant('delete'), at: fc.nat(), char: fc.constant('') }),
        );
        const edited = fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) =>
          edits.reduce((token, { op, at, char }) => {
            const i = at % (token.length + 1);
            return token.slice(0, i) + char + token.slice(op === 'insert' ? i : i + 1);
          }, valid),
        );
        const reordered = fc
          .array(fc.constantFrom(0, 1, 2), { maxLength: 5 })
          .map((order) => order.map((i) => segments[i]).join('.'));
        const reheadered = fc
          .record(
            {
              alg: fc.oneof(
                fc.constantFrom(
                  'none',
                  'None',
                  'HS256',
                  'HS384',
                  'HS512',
                  'RS256',
                  'ES256',
                  'PS256',
                  'EdDSA',
                  'hs256',
                  '',
                ),
                fc.jsonValue({ maxDepth: 2 }),
              ),
              kid: fc.oneof(
                fc.constant(header.kid),
                fc.constantFrom('../../../dev/null', "' OR 1=1 --", 'http://evil.example/key'),
                fc.jsonValue({ maxDepth: 2 }),
              ),
              typ: fc.oneof(
                fc.constantFrom('at+jwt', 'rt+jwt', 'JWT', 'application/at+jwt'),
                fc.jsonValue({ maxDepth: 1 }),
              ),
              jku: fc.constant('http://evil.example/jwks'),
              crit: fc.constant(['exp']),
              b64: fc.constant(false),
            },
            { requiredKeys: [] },
          )
          .map((h) => `${b64(JSON.stringify(h))}.${segments[1]}.${segments[2]}`);
        const randomJson = fc
          .tuple(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), headerString(50))
          .map(([h, p, sig]) => `${b64(JSON.stringify(h))}.${b64(JSON.stringify(p))}.${sig}`);
        // Signed with the demo's real key: only the claims checks stand between these and a 200.
        const resigned = fc
          .dictionary(
            fc.oneof(
              fc.constantFrom(
                'sub',
                'exp',
                'iat',
                'nbf',
                'jti',
                'sid',
                'roles',
                'aud',
                'iss',
                'token_use',
                'auth_time',
              ),
              fc.string({ maxLength: 8 }),
            ),
            fc.option(
              fc.oneof(
                fc.jsonValue({ maxDepth: 2 }),
                // Times around now, so expiry, not-before and session age get their turn.
                fc.integer({ min: now - 1e6, max: now + 1e6 }),
                fc.constantFrom('1', '2', '3', '4', 1e308, -1, 0, Number.MAX_SAFE_INTEGER),
              ),
              { nil: undefined },
            ),
            { minKeys: 1, maxKeys: 3 },
          )
          .map((changes) => ({
            resigned: forgeHmac(header, { ...payload, ...changes }, demo.secret),
          }));
        const long = fc
          .tuple(fc.integer({ min: MAX_TOKEN_LENGTH - 2, max: MAX_TOKEN_LENGTH + 500 }), headerChar)
          .map(([length, char]) => char.repeat(length));

        const token = fc.oneof(
          { weight: 1, arbitrary: fc.constant(valid) },
          { weight: 4, arbitrary: headerString(200) },
          { weight: 6, arbitrary: edited },
          { weight: 2, arbitrary: reordered },
          { weight: 3, arbitrary: reheadered },
          { weight: 3, arbitrary: randomJson },
          { weight: 3, arbitrary: resigned },
          { weight: 1, arbitrary: long },
        );
        const scheme = fc.oneof(
          { weight: 8, arbitrary: fc.constant('Bearer ') },
          { weight: 1, arbitrary: fc.constantFrom('bearer ', 'Bearer\t', 'BEARER  ') },
          { weight: 1, arbitrary: fc.constantFrom('Basic ', '') },
        );

        await fc.assert(
          fc.asyncProperty(token, scheme, async (sent, prefix) => {
            const value = typeof sent === 'string' ? sent : sent.resigned;
            const res = await demo.http.get('/protected').set('Authorization', prefix + value);
            tally(res);
            const untouched = /^bearer[ \t]/i.test(prefix) && trimmed(value) === valid;
            if (res.status === 200) {
              // Only the real token, or one signed with the real key that passed every check.
              expect(untouched || typeof sent !== 'string').toBe(true);
              expect(res.body).toEqual(expect.objectContaining({ sub: expect.any(String) }));
              return;
            }
            expect(untouched).toBe(false);
            expect(res.status).toBe(401);
            expect(res.body).toEqual({
              statusCode: 401,
              code: expect.stringMatching(/^AUTH_/),
              message: expect.any(String),
            });
            expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
          }),
          { numRuns: RUNS.tokens },
        );
      },
      SLOW,
    );

    /** A 4xx with a code (429 included: login is rate limited), or 200 for alice's credentials. */
    function expectCodedRefusalOr200(res: Reply, path: string, sent: unknown) {
      const credentials = sent as { username?: unknown; password?: unknown } | null;
      if (res.status === 200) {
        expect(path).toBe('/auth/login');
        expect(credentials?.username).toBe('alice');
        expect(credentials?.password).toBe('alice-password');
        return;
      }
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body).toEqual(
        expect.objectContaining({
          statusCode: res.status,
          code: expect.any(String),
          message: expect.any(String),
        }),
      );
    }

    const path = fc.constantFrom('/auth/login', '/auth/refresh');
    const anyValue = fc.oneof(
      fc.constantFrom('alice', 'alice-password', 'bob', '', ' alice'),
      fc.string({ maxLength: 30 }),
      fc.jsonValue({ maxDepth: 3 }),
      fc.string({ minLength: 250, maxLength: 1100, unit: 'grapheme-ascii' }),
    );

    it(
      `answers random JSON bodies with a coded 4xx, or 200 for alice (${RUNS.jsonBodies} runs)`,
      async () => {
        const credential = fc.oneof(
          fc.constantFrom('alice', 'alice-password', 'bob', 'carol-password', 'ALICE', ''),
          fc.string({ maxLength: 30 }),
          fc.string({ maxLength: 30, unit: 'binary' }),
        );
        const body = fc.oneof(
          { weight: 1, arbitrary: fc.constant({ username: 'alice', password: 'alice-password' }) },
          // Well-formed logins: these reach argon2, the costly path.
          { weight: 5, arbitrary: fc.record({ username: credential, password: credential }) },
          { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
          {
            weight: 4,
            arbitrary: fc
              .tuple(
                fc.record(
                  { username: anyValue, password: anyValue, refresh_token: anyValue },
                  { requiredKeys: [] },
                ),
                fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), {
                  maxKeys: 2,
                }),
                fc.boolean(),
              )
              .map(([known, extra, withExtra]) => (withExtra ? { ...extra, ...known } : known)),
          },
        );
        await fc.assert(
          fc.asyncProperty(path, body, async (to, sent) => {
            const res = await demo.http
              .post(to)
              .set('Content-Type', 'application/json')
              .send(JSON.stringify(sent));
            tally(res);
            expectCodedRefusalOr200(res, to, sent);
          }),
          { numRuns: RUNS.jsonBodies },
        );
      },
      SLOW,
    );

    it(
      `answers random raw bodies and content types with a coded 4xx (${RUNS.rawBodies} runs)`,
      async () => {
        // JSON types weigh most: they take the request past the 415 check into the parser.
        const contentType = fc.oneof(
          {
            weight: 4,
            arbitrary: fc.constantFrom(
              'application/json',
              'application/json; charset=utf-8',
              'application/json; charset=utf-16',
              'application/json; charset=latin1',
              'application/json;;;',
              'application/JSON',
            ),
          },
          {
            weight: 2,
            arbitrary: fc.constantFrom(
              'text/plain',
              'text/html',
              'application/x-www-form-urlencoded',
              'multipart/form-data',
              'application/octet-stream',
            ),
          },
          { weight: 1, arbitrary: headerString(40) },
        );
        const encoding = fc.option(
          fc.oneof(
            fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'zstd', 'compress'),
            headerString(12),
          ),
          { nil: undefined },
        );
        const text = fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ maxLength: 200, unit: 'binary' }),
          fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
          fc.integer({ min: 16_000, max: 20_000 }).map((n) => `{"username":"${'a'.repeat(n)}"}`),
        );
        await fc.assert(
          fc.asyncProperty(
            path,
            contentType,
            encoding,
            text,
            async (to, type, contentEncoding, sent) => {
              const headers = ['Content-Type', type];
              if (contentEncoding !== undefined) headers.push('Content-Encoding', contentEncoding);
              const res = await raw('POST', to, headers, sent);
              tally(res);
              let parsed: unknown;
              try {
                parsed = JSON.parse(sent);
              } catch {
                parsed = undefined;
              }
              expectCodedRefusalOr200(res, to, parsed);
            },
          ),
          { numRuns: RUNS.rawBodies },
        );
      },
      SLOW,
    );
  });

  describe('afterwards', () => {
    it('still logs alice in, and still honours the tokens issued before', async () => {
      await demo.login('alice');
      const res = await get(earlier.access_token).expect(200);
      expect(res.body).toEqual({ sub: '1', username: 'alice', roles: ['admin'] });
      await demo.http
        .post('/auth/refresh')
        .set('Authorization', `Bearer ${earlier.refresh_token}`)
        .expect(200);
    });

    it(`ran ${TOTAL_RUNS} property-based cases, with no unhandled rejection`, () => {
      const answers = [...outcomes].sort(([, a], [, b]) => b - a).map(([o, n]) => `${n} × ${o}`);
      console.log(
        `hostile input: ${cases} property-based cases (tokens ${RUNS.tokens}, JSON bodies ` +
          `${RUNS.jsonBodies}, raw bodies ${RUNS.rawBodies}; more only when shrinking), ` +
          `answered:\n  ${answers.join('\n  ')}`,
      );
      expect(cases).toBeGreaterThanOrEqual(TOTAL_RUNS);
      expect(rejections).toEqual([]);
    });
  });
});
