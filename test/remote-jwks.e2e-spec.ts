/**
 * A resource server (`remoteJwks`) against a real JWKS server on loopback, whose answers the test
 * sets (document, status, Cache-Control, delay, redirect) and whose fetches it counts; the
 * tokens come from a real TokenGuard issuer. Time moves on a ManualClock shared by both.
 */
import type { INestApplication } from '@nestjs/common';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Controller, Get } from '@nestjs/common';
import {
  AuthConfigError,
  AuthModule,
  CurrentUser,
  Public,
  Roles,
  type AuthPrincipal,
  RevocationService,
  type AuthModuleOptions,
  type RemoteJwksOptions,
} from '../src/index';
import { ManualClock, TestTokens } from '../src/testing';
import { resolveAuthConfig } from '../src/auth-options.validate';
import { bootApp } from './support/auth-app';

const ISSUER = 'remote-jwks-test';
const AUDIENCE = 'remote-jwks-test-api';
const USER = { sub: 'ann', roles: ['user'] };

/** A JWKS endpoint whose answers the test sets, counting every request it gets. */
class JwksServer {
  hits = 0;
  document: unknown = { keys: [] };
  status = 200;
  cacheControl: string | undefined = 'public, max-age=300';
  delayMs = 0;
  redirectTo?: string;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.hits += 1;
      setTimeout(() => {
        if (this.redirectTo) {
          res.writeHead(302, { location: this.redirectTo }).end();
          return;
        }
        res.writeHead(this.status, {
          'content-type': 'application/json',
          ...(this.cacheControl && { 'cache-control': this.cacheControl }),
        });
        res.end(JSON.stringify(this.document));
      }, this.delayMs);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** A TokenGuard auth service of its own key (ES256, or RS256), on the shared clock. */
async function issuerApp(clock: ManualClock, alg: 'ES256' | 'RS256' = 'ES256', kid?: string) {
  const { privateKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = await bootApp(
    AuthModule.forRoot({
      keys: [{ alg, privateKey, kid }],
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
    }),
  );
  const jwks = (await request(app.getHttpServer()).get('/.well-known/jwks.json')).body as {
    keys: { kid: string }[];
  };
  return { app, jwks, tokens: TestTokens.of(app) };
}

/** A token whose header names a key nobody has: it never reaches a signature check. */
function madeUpKidToken(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = { alg: 'ES256', typ: 'at+jwt', kid: randomBytes(8).toString('hex') };
  const payload = { sub: 'x', iss: ISSUER, aud: AUDIENCE };
  return `${part(header)}.${part(payload)}.${randomBytes(64).toString('base64url')}`;
}

describe('resource server (remoteJwks)', () => {
  let clock: ManualClock;
  let jwks: JwksServer;
  let uri: string;
  const apps: INestApplication[] = [];

  beforeEach(async () => {
    clock = new ManualClock();
    jwks = new JwksServer();
    uri = await jwks.start();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await jwks.stop();
  });

  async function issuer(alg?: 'ES256' | 'RS256', kid?: string) {
    const made = await issuerApp(clock, alg, kid);
    apps.push(made.app);
    return made;
  }

  async function resourceServer(remote: Partial<RemoteJwksOptions> = {}) {
    const app = await bootApp(
      AuthModule.forRoot({
        remoteJwks: { uri, refetchIntervalSeconds: 30, timeoutMs: 500, ...remote },
        issuer: ISSUER,
        audience: AUDIENCE,
        clock,
      }),
    );
    apps.push(app);
    const me = (token: string) =>
      request(app.getHttpServer()).get('/me').set('Authorization', `Bearer ${token}`);
    return { app, me };
  }

  it("verifies the auth service's tokens with its published keys, fetched once", async () => {
    const auth = await issuer();
    jwks.document = auth.jwks;
    const { me } = await resourceServer();
    for (let i = 0; i < 5; i++) {
      const res = await me(await auth.tokens.accessToken(USER));
      expect(res.status).toBe(200);
      expect(res.text).toBe('ann');
    }
    expect(jwks.hits).toBe(1);
  });

  it('runs @Public, @Roles and @CurrentUser as the auth service does', async () => {
    @Controller()
    class ApiController {
      @Public() @Get('open') open(): string {
        return 'open';
      }
      @Roles('admin') @Get('admin') admin(@CurrentUser() user: AuthPrincipal): string {
        return user.sub;
      }
    }
    const auth = await issuer();
    jwks.document = auth.jwks;
    const app = await bootApp(
      AuthModule.forRoot({ remoteJwks: { uri }, issuer: ISSUER, audience: AUDIENCE, clock }),
      ApiController,
    );
    apps.push(app);
    const http = request(app.getHttpServer());
    await http.get('/open').expect(200, 'open');
    const admin = await auth.tokens.authorization({ sub: 'root', roles: ['admin'] });
    await http.get('/admin').set('Authorization', admin).expect(200, 'root');
    const user = await auth.tokens.authorization(USER);
    const refused = await http.get('/admin').set('Authorization', user).expect(403);
    expect(refused.body.code).toBe('AUTH_ROLE_REQUIRED');
    expect((await http.get('/admin').expect(401)).body.code).toBe('AUTH_TOKEN_MISSING');
  });

  it('uses a set for its Cache-Control max-age, then refreshes it in the background', async () => {
    const auth = await issuer();
    jwks.document = auth.jwks;
    jwks.cacheControl = 'public, max-age=120';
    const { me } = await resourceServer();
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
    clock.advance(119);
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
    expect(jwks.hits).toBe(1);
    clock.advance(2);
    // Aged: this request is answered from the set in hand while the next one is fetched.
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(jwks.hits).toBe(2);
  });

  it.each([
    ['max-age=999999', 3600, 3601],
    ['no-store', 60, 61],
    [undefined, 300, 301],
  ])('holds Cache-Control %j within the bounds: fresh for %i s', async (header, fresh, aged) => {
    const auth = await issuer();
    jwks.document = auth.jwks;
    jwks.cacheControl = header;
    const { me } = await resourceServer({ minCacheSeconds: 60, maxCacheSeconds: 3600 });
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
    clock.advance(fresh - 1);
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
    expect(jwks.hits).toBe(1);
    clock.advance(aged - fresh + 1);
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(jwks.hits).toBe(2);
  });

  it('fetches at most once per interval however many unknown kids arrive', async () => {
    const auth = await issuer();
    jwks.document = auth.jwks;
    const { me } = await resourceServer({ refetchIntervalSeconds: 30 });
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
    expect(jwks.hits).toBe(1);
    clock.advance(31);
    const flood = async () => {
      const answers = await Promise.all(Array.from({ length: 100 }, () => me(madeUpKidToken())));
      expect(answers.map((res) => (res.body as { code: string }).code)).toEqual(
        Array(100).fill('AUTH_TOKEN_KEY_UNKNOWN'),
      );
    };
    await flood();
    expect(jwks.hits).toBe(2);
    clock.advance(10);
    await flood();
    expect(jwks.hits).toBe(2);
    clock.advance(21);
    await flood();
    expect(jwks.hits).toBe(3);
  });

  it('picks up a rotation: a new kid is fetched, a retired one goes with the next set', async () => {
    const first = await issuer();
    jwks.document = first.jwks;
    const { me } = await resourceServer({ refetchIntervalSeconds: 30 });
    const old = await first.tokens.accessToken(USER);
    expect((await me(old)).status).toBe(200);
    // The auth service now signs with a new key and publishes both.
    const second = await issuer();
    jwks.document = { keys: [...second.jwks.keys, ...first.jwks.keys] };
    const fresh = await second.tokens.accessToken(USER);
    expect((await me(fresh)).body.code).toBe('AUTH_TOKEN_KEY_UNKNOWN'); // within the interval
    clock.advance(31);
    expect((await me(fresh)).status).toBe(200);
    // Then retires the old one: gone once the set ages out, for a token verified before too.
    jwks.document = second.jwks;
    clock.advance(301);
    await me(await second.tokens.accessToken(USER)); // answered from the aged set; the refresh runs
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await me(old)).body.code).toBe('AUTH_TOKEN_KEY_UNKNOWN');
    expect((await me(await first.tokens.accessToken(USER))).body.code).toBe(
      'AUTH_TOKEN_KEY_UNKNOWN',
    );
    expect((await me(await second.tokens.accessToken(USER))).status).toBe(200);
  });

  it('refuses tokens verified before when a kid comes back naming another key', async () => {
    const first = await issuer('ES256', 'k');
    jwks.document = first.jwks;
    const { me } = await resourceServer();
    const token = await first.tokens.accessToken(USER);
    expect((await me(token)).status).toBe(200); // verified, and cached
    const rekeyed = await issuer('ES256', 'k');
    jwks.document = rekeyed.jwks;
    clock.advance(301);
    await me(await rekeyed.tokens.accessToken(USER)); // the aged set is refreshed
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await me(token)).body.code).toBe('AUTH_TOKEN_SIGNATURE_INVALID');
  });

  it('fetches for a new key whose algorithm the set had none of', async () => {
    const rsa = await issuer('RS256');
    jwks.document = rsa.jwks;
    const { me } = await resourceServer({ refetchIntervalSeconds: 30 });
    expect((await me(await rsa.tokens.accessToken(USER))).status).toBe(200);
    const ec = await issuer('ES256');
    jwks.document = { keys: [...ec.jwks.keys, ...rsa.jwks.keys] };
    clock.advance(31);
    expect((await me(await ec.tokens.accessToken(USER))).status).toBe(200);
    expect(jwks.hits).toBe(2);
  });

  it.each([
    ['an error status', (server: JwksServer) => (server.status = 500)],
    ['a timeout', (server: JwksServer) => (server.delayMs = 1500)],
    ['a body that is not a key set', (server: JwksServer) => (server.document = { nope: 1 })],
    ['a set without a usable key', (server: JwksServer) => (server.document = { keys: [{}] })],
    [
      'an answer past 512 KiB, streamed',
      (server: JwksServer) => (server.document = { keys: [], pad: 'x'.repeat(600_000) }),
    ],
  ])('keeps the keys it has when a refresh fails with %s', async (_, fail) => {
    const auth = await issuer();
    jwks.document = auth.jwks;
    const { me } = await resourceServer({ timeoutMs: 200 });
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
    fail(jwks);
    clock.advance(301);
    for (let i = 0; i < 3; i++) {
      expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(jwks.hits).toBe(2); // the one refresh the interval allows
  });

  it('answers 503 AUTH_KEYS_UNAVAILABLE while it has no keys, fetching once per interval', async () => {
    const auth = await issuer();
    jwks.status = 503;
    const { me } = await resourceServer({ refetchIntervalSeconds: 30 });
    for (let i = 0; i < 3; i++) {
      const res = await me(await auth.tokens.accessToken(USER));
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('AUTH_KEYS_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
    }
    expect(jwks.hits).toBe(1);
    jwks.status = 200;
    jwks.document = auth.jwks;
    clock.advance(31);
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
    expect(jwks.hits).toBe(2);
  });

  it('fetches only the configured URL: no redirect, no jku', async () => {
    const elsewhere = new JwksServer();
    const other = await elsewhere.start();
    try {
      const auth = await issuer();
      elsewhere.document = auth.jwks;
      jwks.redirectTo = other;
      const { me } = await resourceServer();
      const res = await me(await auth.tokens.accessToken(USER));
      expect(res.body.code).toBe('AUTH_KEYS_UNAVAILABLE');
      const [head, body, signature] = (await auth.tokens.accessToken(USER)).split('.');
      const header = { ...JSON.parse(Buffer.from(head!, 'base64url').toString()), jku: other };
      const withJku = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${body}.${signature}`;
      expect((await me(withJku)).body.code).toBe('AUTH_TOKEN_HEADER_REFUSED');
      expect(elsewhere.hits).toBe(0);
    } finally {
      await elsewhere.stop();
    }
  });

  it('leaves out keys it must not use, and uses the rest', async () => {
    const auth = await issuer();
    const { privateKey: weak } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const { privateKey: leaked } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    jwks.document = {
      keys: [
        { ...weak.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256' },
        { ...leaked.export({ format: 'jwk' }), kid: 'private', alg: 'ES256' },
        { kty: 'oct', k: randomBytes(32).toString('base64url'), kid: 'hmac', alg: 'HS256' },
        { ...auth.jwks.keys[0], use: 'enc', kid: 'enc' },
        ...auth.jwks.keys,
      ],
    };
    const { me } = await resourceServer();
    expect((await me(await auth.tokens.accessToken(USER))).status).toBe(200);
  });

  it('serves no JWKS of its own, and refuses to write revocations', async () => {
    const auth = await issuer();
    jwks.document = auth.jwks;
    const app = await bootApp(
      AuthModule.forRoot({
        remoteJwks: { uri },
        issuer: ISSUER,
        audience: AUDIENCE,
        revocation: { readOnly: true },
        clock,
      }),
    );
    apps.push(app);
    expect((await request(app.getHttpServer()).get('/.well-known/jwks.json')).status).toBe(404);
    await expect(app.get(RevocationService).revokeUser('ann')).rejects.toThrow(
      /revocation.readOnly/,
    );
  });

  it.each<[Partial<AuthModuleOptions>, RegExp]>([
    [{ secret: randomBytes(32).toString('base64url') }, /remove secret/],
    [{ sliding: { renewWithinSeconds: 60 } }, /sliding renews tokens/],
    [{ remoteJwks: { uri: 'ftp://auth.example/jwks' } }, /remoteJwks.uri must be an https URL/],
    [{ remoteJwks: { uri: 'http://auth.example/jwks' } }, /http only on loopback/],
    [
      { remoteJwks: { uri: 'https://a.example/j', minCacheSeconds: 600, maxCacheSeconds: 60 } },
      /minCacheSeconds must not exceed/,
    ],
  ])('refuses %j at start-up', (extra, message) => {
    const options = {
      remoteJwks: { uri: 'https://auth.example/.well-known/jwks.json' },
      issuer: ISSUER,
      audience: AUDIENCE,
      ...extra,
    } as AuthModuleOptions;
    expect(() => resolveAuthConfig(options)).toThrow(AuthConfigError);
    expect(() => resolveAuthConfig(options)).toThrow(message);
  });
});
