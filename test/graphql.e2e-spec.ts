import type { Response } from 'supertest';
import { cookieHeader, setCookies } from './support/cookies';
import { startDemo, type RunningDemo } from './support/demo-app';
import { decode } from './support/forge';

/** What a GraphQL response carries: data and errors with TokenGuard's code in `extensions`. */
interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; stacktrace?: string[] } }[];
}

const body = (res: Response) => res.body as GraphqlBody;
const codes = (res: Response) => (body(res).errors ?? []).map((e) => e.extensions?.code);

describe('GraphQL over HTTP (Apollo on Express, Mercurius on Fastify)', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo({ SESSION_MAX_AGE: '1h' })));
  afterAll(() => demo.close());

  const query = (source: string, token?: string) => {
    const call = demo.http.post('/graphql').send({ query: source });
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  };

  it('answers the public ping without a token', async () => {
    expect(body(await query('{ ping }').expect(200)).data).toEqual({ ping: 'pong' });
  });

  it('me: the caller with a valid token, AUTH_TOKEN_MISSING without one', async () => {
    const { access_token } = await demo.login('alice');
    expect(body(await query('{ me { sub username roles } }', access_token)).data).toEqual({
      me: { sub: '1', username: 'alice', roles: ['admin'] },
    });
    const res = await query('{ me { sub } }');
    expect(codes(res)).toEqual(['AUTH_TOKEN_MISSING']);
  });

  it('refuses a bad signature, an expired and a revoked token with their codes, never INTERNAL_SERVER_ERROR', async () => {
    const { access_token } = await demo.login('carol');
    expect(codes(await query('{ me { sub } }', `${access_token.slice(0, -4)}AAAA`))).toEqual([
      'AUTH_TOKEN_SIGNATURE_INVALID',
    ]);
    expect(codes(await query('{ me { sub } }', 'junk'))).toEqual(['AUTH_TOKEN_MALFORMED']);

    const expiring = (await demo.login('carol')).access_token;
    demo.clock.advance(16 * 60);
    try {
      expect(codes(await query('{ me { sub } }', expiring))).toEqual(['AUTH_TOKEN_EXPIRED']);
    } finally {
      demo.clock.advance(-16 * 60);
    }

    await demo.http.post('/auth/logout').set('Authorization', `Bearer ${access_token}`).expect(200);
    expect(codes(await query('{ me { sub } }', access_token))).toEqual(['AUTH_TOKEN_REVOKED']);
  });

  it('carries no stack frames in errors, whatever NODE_ENV', async () => {
    const res = await query('{ me { sub } }', 'junk');
    const [error] = body(res).errors ?? [];
    for (const line of error?.extensions?.stacktrace ?? []) expect(line).not.toMatch(/\bat\b.*\(/);
  });

  it('@Roles: adminUsers for admins, AUTH_ROLE_REQUIRED for others', async () => {
    const alice = (await demo.login('alice')).access_token;
    const carol = (await demo.login('carol')).access_token;
    const users = body(await query('{ adminUsers { username roles } }', alice)).data;
    expect(users?.adminUsers).toContainEqual({ username: 'carol', roles: ['user'] });
    expect(codes(await query('{ adminUsers { username } }', carol))).toEqual([
      'AUTH_ROLE_REQUIRED',
    ]);
  });

  it('@OptionalAuth: greeting for guests and callers, a bad token refused', async () => {
    expect(body(await query('{ greeting }')).data).toEqual({ greeting: 'hello, guest' });
    const bob = (await demo.login('bob')).access_token;
    expect(body(await query('{ greeting }', bob)).data).toEqual({ greeting: 'hello, bob' });
    expect(codes(await query('{ greeting }', 'junk'))).toEqual(['AUTH_TOKEN_MALFORMED']);
  });

  it('renews a token near expiry in X-New-Token on the HTTP response', async () => {
    const { access_token } = await demo.login('alice');
    const early = await query('{ me { sub } }', access_token).expect(200);
    expect(early.headers['x-new-token']).toBeUndefined();
    demo.clock.advance(11 * 60);
    try {
      const res = await query('{ me { sub } }', access_token).expect(200);
      const renewed = res.headers['x-new-token'] as string;
      expect(decode(renewed).payload.sid).toBe(decode(access_token).payload.sid);
      expect(res.headers['cache-control']).toBe('no-store');
      // Never on an answer whose only field was refused.
      const refused = await query('{ adminUsers { username } }', renewed).expect(200);
      expect(refused.headers['x-new-token']).toBeUndefined();
    } finally {
      demo.clock.advance(-11 * 60);
    }
  });

  it('a mutation ends the session (bearer: no CSRF token needed)', async () => {
    const { access_token } = await demo.login('bob');
    expect(body(await query('mutation { logout }', access_token)).data).toEqual({ logout: true });
    expect(codes(await query('{ me { sub } }', access_token))).toEqual(['AUTH_TOKEN_REVOKED']);
  });
});

describe('GraphQL rate limits per client address', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo({ RATE_LIMIT: '3/60s' })));
  afterAll(() => demo.close());

  it('answers AUTH_RATE_LIMITED with Retry-After once the limit is spent', async () => {
    for (let i = 0; i < 3; i++) {
      expect(body(await demo.http.post('/graphql').send({ query: '{ ping }' })).data).toEqual({
        ping: 'pong',
      });
    }
    const res = await demo.http.post('/graphql').send({ query: '{ ping }' });
    expect(codes(res)).toEqual(['AUTH_RATE_LIMITED']);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('GraphQL with the cookie transport', () => {
  let demo: RunningDemo;
  beforeAll(
    async () =>
      (demo = await startDemo({ TOKEN_LOCATION: 'headers,cookies', COOKIE_SECURE: 'false' })),
  );
  afterAll(() => demo.close());

  async function cookieLogin() {
    const res = await demo.http
      .post('/auth/login')
      .send({ username: 'carol', password: 'carol-password' })
      .expect(200);
    const cookies = setCookies(res);
    return {
      jar: cookieHeader(cookies, 'tg_access', 'tg_csrf'),
      csrf: cookies.get('tg_csrf')?.value ?? '',
    };
  }

  const post = (source: string, jar: string, csrf?: string) => {
    const call = demo.http.post('/graphql').set('Cookie', jar).send({ query: source });
    return csrf ? call.set('X-CSRF-Token', csrf) : call;
  };

  it('queries by cookie without a CSRF token (a POST, but no change)', async () => {
    const { jar } = await cookieLogin();
    expect(body(await post('{ me { sub } }', jar)).data).toEqual({ me: { sub: '3' } });
  });

  it('refuses a cookie-authenticated mutation without the CSRF token, accepts it with', async () => {
    const { jar, csrf } = await cookieLogin();
    expect(codes(await post('mutation { logout }', jar))).toEqual(['AUTH_CSRF_INVALID']);
    expect(codes(await post('mutation { logout }', jar, 'wrong'))).toEqual(['AUTH_CSRF_INVALID']);
    expect(body(await post('{ me { sub } }', jar)).data).toEqual({ me: { sub: '3' } });
    expect(body(await post('mutation { logout }', jar, csrf)).data).toEqual({ logout: true });
    expect(codes(await post('{ me { sub } }', jar))).toEqual(['AUTH_TOKEN_REVOKED']);
  });
});
