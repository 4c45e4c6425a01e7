/**
 * The demo as two services, each a process of its own: an auth service (`DEMO_ROLE=auth`, ES256)
 * and a resource server (`DEMO_ROLE=resource-server`) that verifies the auth service's tokens
 * through its JWKS and reads its revocations from the same Redis. Between them a counting proxy
 * on the JWKS path, so the test sees every fetch the resource server makes.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoProcess } from './support/demo-process';
import { deleteKeys, describeWithRedis, REDIS_URL, testPrefix } from './support/redis';

/** Forwards GET /.well-known/jwks.json to the auth service of the moment, counting each. */
class CountingJwksProxy {
  fetches = 0;
  target = '';
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.fetches += 1;
      fetch(`${this.target}/.well-known/jwks.json`).then(
        async (upstream) => {
          res.writeHead(upstream.status, {
            'content-type': 'application/json',
            'cache-control': upstream.headers.get('cache-control') ?? '',
          });
          res.end(await upstream.text());
        },
        () => res.writeHead(502).end(),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();

/** A token whose header names a key nobody has. */
function madeUpKidToken(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = { alg: 'ES256', typ: 'at+jwt', kid: randomBytes(8).toString('hex') };
  return `${part(header)}.${part({ sub: 'x' })}.${randomBytes(64).toString('base64url')}`;
}

describeWithRedis('an auth service and a resource server, two processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenguard-rs-'));
  const prefix = testPrefix();
  const proxy = new CountingJwksProxy();
  const keyA = join(dir, 'a.pem');
  const keyB = join(dir, 'b.pem');
  const retiredA = join(dir, 'a.jwks.json');
  let auth: DemoProcess;
  let api: DemoProcess;
  const shared = {
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    JWT_ALGORITHM: 'ES256',
    LOGIN_RATE_LIMIT: '100/60s',
  };

  const startAuth = async (env: NodeJS.ProcessEnv) => {
    auth = await DemoProcess.start({ ...shared, ...env });
    proxy.target = auth.url;
  };
  const login = async (username: string) => {
    const res = await fetch(`${auth.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: `${username}-password` }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const onApi = (path: string, token?: string) =>
    fetch(`${api.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const codeOf = async (res: Response) => ((await res.json()) as { code?: string }).code;

  beforeAll(async () => {
    writeFileSync(keyA, pem());
    writeFileSync(keyB, pem());
    const uri = await proxy.start();
    await startAuth({ JWT_PRIVATE_KEY_FILE: keyA });
    writeFileSync(retiredA, await (await fetch(`${auth.url}/.well-known/jwks.json`)).text());
    api = await DemoProcess.start({
      ...shared,
      DEMO_ROLE: 'resource-server',
      JWKS_URI: uri,
      JWKS_REFETCH_INTERVAL: '2s',
      JWKS_MAX_CACHE: '3s',
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([auth?.stop(), api?.stop(), proxy.stop()]);
    await deleteKeys(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the auth service’s tokens, with their roles, and has no sign-in of its own', async () => {
    const alice = await login('alice');
    const res = await onApi('/protected', alice);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: '1', username: 'alice', roles: ['admin'] });
    expect((await onApi('/admin/users', alice)).status).toBe(200);
    const bob = await login('bob');
    expect((await onApi('/moderator/posts', bob)).status).toBe(200);
    expect(await codeOf(await onApi('/admin/users', bob))).toBe('AUTH_ROLE_REQUIRED');
    expect(await codeOf(await onApi('/protected'))).toBe('AUTH_TOKEN_MISSING');
    expect((await onApi('/health')).status).toBe(200);
    for (const path of ['/auth/login', '/auth/refresh', '/.well-known/jwks.json', '/graphql']) {
      const res = await fetch(`${api.url}${path}`, {
        method: path === '/.well-known/jwks.json' ? 'GET' : 'POST',
      });
      expect([path, res.status]).toEqual([path, 404]);
    }
  });

  it('refuses a token logged out on the auth service at its next request', async () => {
    const carol = await login('carol');
    expect((await onApi('/protected', carol)).status).toBe(200);
    const logout = await fetch(`${auth.url}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol}` },
    });
    expect(logout.status).toBe(200);
    expect(await codeOf(await onApi('/protected', carol))).toBe('AUTH_TOKEN_REVOKED');
  });

  it('picks up a key rotation without a restart: a new key at once, a retired one when its set ages', async () => {
    const signedByA = await login('alice');
    expect((await onApi('/protected', signedByA)).status).toBe(200);
    // The auth service restarts signing with B and still publishing A.
    await auth.stop();
    await startAuth({ JWT_PRIVATE_KEY_FILE: keyB, JWT_RETIRED_JWKS_FILE: retiredA });
    await new Promise((resolve) => setTimeout(resolve, 2100)); // past the refetch interval
    const signedByB = await login('alice');
    expect((await onApi('/protected', signedByB)).status).toBe(200);
    expect((await onApi('/protected', signedByA)).status).toBe(200);
    // Then retires A: gone from the resource server once its set is older than JWKS_MAX_CACHE.
    await auth.stop();
    await startAuth({ JWT_PRIVATE_KEY_FILE: keyB });
    await new Promise((resolve) => setTimeout(resolve, 3200));
    await onApi('/protected', signedByB); // answered from the aged set; the refresh starts
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await codeOf(await onApi('/protected', signedByA))).toBe('AUTH_TOKEN_KEY_UNKNOWN');
    expect((await onApi('/protected', signedByB)).status).toBe(200);
  }, 60_000);

  it('fetches the JWKS at most once per interval under a flood of unknown kids', async () => {
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const before = proxy.fetches;
    const started = Date.now();
    let refused = 0;
    while (Date.now() - started < 5000) {
      const answers = await Promise.all(
        Array.from({ length: 25 }, () => onApi('/protected', madeUpKidToken()).then(codeOf)),
      );
      refused += answers.filter((code) => code === 'AUTH_TOKEN_KEY_UNKNOWN').length;
    }
    const elapsed = (Date.now() - started) / 1000;
    const fetches = proxy.fetches - before;
    console.log(
      `${refused} unknown-kid tokens in ${elapsed.toFixed(1)} s: ${fetches} JWKS fetches`,
    );
    expect(refused).toBeGreaterThan(100);
    // One per 2 s interval, the first at once: at most 3 in 5 s (set ageing included).
    expect(fetches).toBeGreaterThanOrEqual(1);
    expect(fetches).toBeLessThanOrEqual(Math.floor(elapsed / 2) + 1);
  }, 30_000);
});
