import { performance } from 'node:perf_hooks';
import { startDemo, type RunningDemo } from './support/demo-app';
import { accessCookie, collect, gqlClient, listen } from './support/live';

const TICKS = 'subscription { ticks }';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('GraphQL subscriptions over graphql-ws', () => {
  let demo: RunningDemo;
  let host: string;
  beforeAll(async () => {
    demo = await startDemo({}, { auth: { connections: { recheckSeconds: 0.2 } } });
    host = await listen(demo);
  });
  afterAll(() => demo.close());

  it('streams ticks to a valid access token', async () => {
    const { access_token } = await demo.login('carol');
    const { client } = gqlClient(host, bearer(access_token));
    const ticks = collect(client, TICKS);
    await ticks.next(2);
    expect(ticks.values.slice(0, 2)).toEqual([{ data: { ticks: 1 } }, { data: { ticks: 2 } }]);
    ticks.stop();
    await client.dispose();
  });

  it.each([
    ['no token', () => ({}), 'AUTH_TOKEN_MISSING'],
    ['a token of the wrong JSON type', () => ({ authorization: 42 }), 'AUTH_TOKEN_MALFORMED'],
    [
      'a bad signature',
      (t: string) => bearer(`${t.slice(0, -4)}AAAA`),
      'AUTH_TOKEN_SIGNATURE_INVALID',
    ],
    ['a refresh token', (_t: string, r: string) => bearer(r), 'AUTH_TOKEN_WRONG_TYPE'],
  ])('closes with 4401 for %s', async (_name, params, code) => {
    const { access_token, refresh_token } = await demo.login('carol');
    const { client, closed } = gqlClient(host, params(access_token, refresh_token));
    collect(client, TICKS);
    expect(await closed).toEqual({ code: 4401, reason: code });
    await client.dispose();
  });

  it('closes with 4401 for a revoked or an expired token', async () => {
    const revoked = (await demo.login('carol')).access_token;
    await demo.http.post('/auth/logout').set('Authorization', `Bearer ${revoked}`).expect(200);
    const first = gqlClient(host, bearer(revoked));
    collect(first.client, TICKS);
    expect(await first.closed).toEqual({ code: 4401, reason: 'AUTH_TOKEN_REVOKED' });

    const expiring = (await demo.login('carol')).access_token;
    demo.clock.advance(16 * 60);
    try {
      const second = gqlClient(host, bearer(expiring));
      collect(second.client, TICKS);
      expect(await second.closed).toEqual({ code: 4401, reason: 'AUTH_TOKEN_EXPIRED' });
    } finally {
      demo.clock.advance(-16 * 60);
    }
  });

  it('closes with 4403 when an operation needs a role the caller lacks', async () => {
    const { access_token } = await demo.login('carol');
    const { client, closed } = gqlClient(host, bearer(access_token));
    collect(client, '{ adminUsers { username } }');
    expect(await closed).toEqual({ code: 4403, reason: 'AUTH_ROLE_REQUIRED' });
  });

  it('answers queries over the socket with the caller (optional auth sees it too)', async () => {
    const { access_token } = await demo.login('bob');
    const { client } = gqlClient(host, bearer(access_token));
    const result = collect(client, '{ greeting me { username } }');
    await result.next(1);
    expect(result.values[0]).toEqual({ data: { greeting: 'hello, bob', me: { username: 'bob' } } });
    await client.dispose();
  });

  it.each([
    ['logout', '/auth/logout'],
    ['logout everywhere', '/auth/logout-all'],
  ])('ends a live subscription after %s, within the recheck interval', async (_name, path) => {
    const { access_token } = await demo.login('alice');
    const { client, closed } = gqlClient(host, bearer(access_token));
    const ticks = collect(client, TICKS);
    await ticks.next(1);
    const start = performance.now();
    await demo.http.post(path).set('Authorization', `Bearer ${access_token}`).expect(200);
    expect(await closed).toEqual({ code: 4401, reason: 'AUTH_TOKEN_REVOKED' });
    const elapsedMs = performance.now() - start;
    console.log(`subscription ended ${elapsedMs.toFixed(0)} ms after ${path} (recheck 200 ms)`);
  });

  it('ends a live subscription when its token expires', async () => {
    // bob: alice logged out everywhere at this (frozen) instant, which her new logins share.
    const { access_token } = await demo.login('bob');
    const { client, closed } = gqlClient(host, bearer(access_token));
    const ticks = collect(client, TICKS);
    await ticks.next(1);
    demo.clock.advance(16 * 60);
    try {
      expect(await closed).toEqual({ code: 4401, reason: 'AUTH_TOKEN_EXPIRED' });
    } finally {
      demo.clock.advance(-16 * 60);
    }
  });
});

describe('GraphQL subscriptions with the cookie transport', () => {
  let demo: RunningDemo;
  let host: string;
  beforeAll(async () => {
    demo = await startDemo({ TOKEN_LOCATION: 'cookies', COOKIE_SECURE: 'false' });
    host = await listen(demo);
  });
  afterAll(() => demo.close());

  const cookieJar = () => accessCookie(demo);

  it('authenticates by the handshake cookie from the same origin', async () => {
    const cookie = await cookieJar();
    const { client } = gqlClient(host, {}, { cookie, origin: `http://${host}` });
    const ticks = collect(client, TICKS);
    await ticks.next(1);
    await client.dispose();
  });

  it('refuses a cookie-authenticated connection from a foreign origin with 4403', async () => {
    const cookie = await cookieJar();
    const { client, closed } = gqlClient(host, {}, { cookie, origin: 'https://evil.example' });
    collect(client, TICKS);
    expect(await closed).toEqual({ code: 4403, reason: 'AUTH_ORIGIN_REFUSED' });
  });
});
