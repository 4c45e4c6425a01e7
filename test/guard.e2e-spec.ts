import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { startDemo, type RunningDemo } from './support/demo-app';
import { decode, forgeAsymmetric, forgeHmac, forgeNone, resign } from './support/forge';

/** Each way an access token can be wrong gets its own 401 code, a challenge header, and no echo of the token. */
describe('JwtAuthGuard on GET /protected', () => {
  let demo: RunningDemo;
  let access: string;
  let refresh: string;

  beforeAll(async () => {
    demo = await startDemo();
    ({ access_token: access, refresh_token: refresh } = await demo.login('alice'));
  });
  afterAll(() => demo.close());

  it('runs on the HTTP adapter its Jest project asks for (Express, or Fastify in e2e-fastify)', () => {
    const wanted = (globalThis as { DEMO_ADAPTER?: string }).DEMO_ADAPTER ?? 'express';
    expect(demo.app.getHttpAdapter().getType()).toBe(wanted);
  });

  const get = (token?: string, scheme = 'Bearer') => {
    const req = demo.http.get('/protected');
    return token === undefined ? req : req.set('Authorization', `${scheme} ${token}`);
  };

  async function expect401(token: string | undefined, code: string, scheme?: string) {
    const res = await get(token, scheme).expect(401);
    expect(res.body).toEqual({ statusCode: 401, code, message: expect.any(String) });
    expect(res.headers['content-type']).toMatch(/application\/json/);
    if (token) {
      expect(res.text).not.toContain(token.slice(0, 20));
    }
    if (code !== 'AUTH_TOKEN_MISSING') {
      expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    }
    return res;
  }

  it('accepts a valid access token', async () => {
    const res = await get(access).expect(200);
    expect(res.body).toEqual({ sub: '1', username: 'alice', roles: ['admin'] });
  });

  it('accepts the scheme in any case', async () => {
    await get(access, 'bearer').expect(200);
  });

  it('accepts a tab after the scheme, and refuses a header carrying more than one token', async () => {
    await demo.http.get('/protected').set('Authorization', `Bearer\t${access}`).expect(200);
    await expect401(`${access} ${access}`, 'AUTH_TOKEN_MALFORMED');
    await expect401(`${access}, Basic eDp5`, 'AUTH_TOKEN_MALFORMED');
  });

  it('reads typ as a media type: any case, application/ prefix optional (RFC 7515 4.1.9)', async () => {
    await get(resign(access, demo.secret, (_c, h) => (h.typ = 'application/AT+JWT'))).expect(200);
    await expect401(
      resign(access, demo.secret, (_c, h) => (h.typ = 'JWT')),
      'AUTH_TOKEN_WRONG_TYPE',
    );
  });

  it('refuses a token that lives longer than this server issues them for', async () => {
    const edited = resign(access, demo.secret, (c) => (c.exp = Number(c.iat) + 10 * 24 * 3600));
    await expect401(edited, 'AUTH_TOKEN_CLAIMS_INVALID');
    await expect401(
      resign(access, demo.secret, (c) => (c.exp = 1e300)),
      'AUTH_TOKEN_CLAIMS_INVALID',
    );
  });

  it('refuses a missing token with a bare challenge (RFC 6750 section 3.1)', async () => {
    const res = await expect401(undefined, 'AUTH_TOKEN_MISSING');
    expect(res.headers['www-authenticate']).toBe('Bearer');
    await expect401(access, 'AUTH_TOKEN_MISSING', 'Basic');
    await expect401('', 'AUTH_TOKEN_MISSING');
  });

  it.each([
    ['not a JWT', 'not-a-jwt'],
    ['two segments', 'abc.def'],
    ['bad base64 header', '!!!.e30.sig'],
    ['non-JSON header', `${Buffer.from('hello').toString('base64url')}.e30.sig`],
    ['a JSON array header', `${Buffer.from('[1]').toString('base64url')}.e30.sig`],
  ])('refuses a malformed token: %s', async (_name, token) => {
    await expect401(token, 'AUTH_TOKEN_MALFORMED');
  });

  it.each([null, 1, 'text', [1]])(
    'refuses a correctly signed token whose payload is not an object (%j), never with a 500',
    async (payload) => {
      const header = { alg: 'HS256', typ: 'JWT', kid: decode(access).header.kid };
      await expect401(forgeHmac(header, payload, demo.secret), 'AUTH_TOKEN_MALFORMED');
    },
  );

  it('refuses a token over the size limit before parsing it', async () => {
    await expect401(`${access}${'A'.repeat(9000)}`, 'AUTH_TOKEN_TOO_LARGE');
  });

  it('refuses a non-JSON payload signed with the right key', async () => {
    const header = Buffer.from(JSON.stringify(decode(access).header)).toString('base64url');
    const body = Buffer.from('not json').toString('base64url');
    const { createHmac } = await import('node:crypto');
    const sig = createHmac('sha256', demo.secret).update(`${header}.${body}`).digest('base64url');
    await expect401(`${header}.${body}.${sig}`, 'AUTH_TOKEN_MALFORMED');
  });

  it('refuses an expired token, driven by the clock', async () => {
    const { access_token } = await demo.login('alice');
    demo.clock.advance(15 * 60 + 30); // lifetime plus the 30 s leeway
    try {
      await expect401(access_token, 'AUTH_TOKEN_EXPIRED');
    } finally {
      demo.clock.advance(-(15 * 60 + 30));
    }
    await get(access_token).expect(200);
  });

  it('accepts a token just inside the clock-skew leeway', async () => {
    const { access_token } = await demo.login('alice');
    demo.clock.advance(15 * 60 + 29);
    try {
      await get(access_token).expect(200);
    } finally {
      demo.clock.advance(-(15 * 60 + 29));
    }
  });

  it('judges expiry by the injected clock only, not by the wall clock', async () => {
    demo.clock.advance(-3600);
    try {
      const { access_token } = await demo.login('alice'); // expired by wall time 45 minutes ago
      await get(access_token).expect(200);
    } finally {
      demo.clock.advance(3600);
    }
  });

  it('refuses a token not valid yet (nbf beyond the leeway)', async () => {
    const now = Math.floor(demo.clock.now() / 1000);
    await expect401(
      resign(access, demo.secret, (c) => (c.nbf = now + 120)),
      'AUTH_TOKEN_NOT_YET_VALID',
    );
  });

  it('refuses a token issued in the future (iat beyond the leeway)', async () => {
    const now = Math.floor(demo.clock.now() / 1000);
    await expect401(
      resign(access, demo.secret, (c) => {
        c.iat = now + 120;
        delete c.iat_ms; // kept, it would no longer match its iat (a malformed token)
      }),
      'AUTH_TOKEN_ISSUED_IN_FUTURE',
    );
  });

  it('refuses a token signed with another key', async () => {
    const token = resign(access, demo.secret, () => undefined);
    const other = forgeHmac(decode(token).header, decode(token).payload, randomBytes(48));
    await expect401(other, 'AUTH_TOKEN_SIGNATURE_INVALID');
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [header, , signature] = access.split('.');
    const payload = { ...decode(access).payload, roles: ['super_admin'] };
    const tampered = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
    await expect401(tampered, 'AUTH_TOKEN_SIGNATURE_INVALID');
  });

  it('refuses alg "none"', async () => {
    await expect401(forgeNone(decode(access).payload), 'AUTH_TOKEN_ALGORITHM_REFUSED');
    await expect401(
      `${forgeNone(decode(access).payload)}${access.split('.')[2]}`,
      'AUTH_TOKEN_ALGORITHM_REFUSED',
    );
  });

  it('refuses an algorithm other than the configured one, even with the same secret', async () => {
    const { header, payload } = decode(access);
    await expect401(
      forgeHmac({ ...header, alg: 'HS512' }, payload, demo.secret, 'sha512'),
      'AUTH_TOKEN_ALGORITHM_REFUSED',
    );
  });

  it('refuses an RS256/ES256 token signed by a key of the attacker', async () => {
    const { payload, header } = decode(access);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await expect401(
      forgeAsymmetric({ ...header, alg: 'ES256' }, payload, privateKey),
      'AUTH_TOKEN_ALGORITHM_REFUSED',
    );
  });

  it('refuses a kid this server does not have', async () => {
    await expect401(
      resign(access, demo.secret, (_c, h) => (h.kid = '../../etc/passwd')),
      'AUTH_TOKEN_KEY_UNKNOWN',
    );
  });

  it('refuses b64: false (RFC 7797 is not for JWTs)', async () => {
    await expect401(
      resign(access, demo.secret, (_c, h) => (h.b64 = false)),
      'AUTH_TOKEN_HEADER_REFUSED',
    );
  });

  it.each(['jku', 'jwk', 'x5u', 'x5c', 'crit'])(
    'refuses a token carrying a "%s" header',
    async (name) => {
      await expect401(
        resign(access, demo.secret, (_c, h) => (h[name] = ['https://attacker.example/keys'])),
        'AUTH_TOKEN_HEADER_REFUSED',
      );
    },
  );

  it('refuses a refresh token on a guarded route', async () => {
    await expect401(refresh, 'AUTH_TOKEN_WRONG_TYPE');
  });

  it('refuses a refresh token relabelled as an access token in the header only', async () => {
    await expect401(
      resign(refresh, demo.secret, (_c, h) => (h.typ = 'at+jwt')),
      'AUTH_TOKEN_WRONG_TYPE',
    );
    await expect401(
      resign(access, demo.secret, (_c, h) => delete h.typ),
      'AUTH_TOKEN_WRONG_TYPE',
    );
  });

  it('refuses a token for another audience or from another issuer', async () => {
    await expect401(
      resign(access, demo.secret, (c) => (c.aud = 'other-api')),
      'AUTH_TOKEN_AUDIENCE_INVALID',
    );
    await expect401(
      resign(access, demo.secret, (c) => delete c.aud),
      'AUTH_TOKEN_AUDIENCE_INVALID',
    );
    await expect401(
      resign(access, demo.secret, (c) => (c.iss = 'someone-else')),
      'AUTH_TOKEN_ISSUER_INVALID',
    );
  });

  it.each(['sub', 'jti', 'sid', 'exp', 'iat', 'nbf', 'roles'])(
    'refuses a token without "%s"',
    async (claim) => {
      await expect401(
        resign(access, demo.secret, (c) => delete c[claim]),
        'AUTH_TOKEN_CLAIMS_INVALID',
      );
    },
  );

  it('refuses a token with an ill-typed claim', async () => {
    await expect401(
      resign(access, demo.secret, (c) => (c.exp = 'tomorrow')),
      'AUTH_TOKEN_CLAIMS_INVALID',
    );
    await expect401(
      resign(access, demo.secret, (c) => (c.roles = 'admin')),
      'AUTH_TOKEN_CLAIMS_INVALID',
    );
    // auth_time bounds the session: a string would make the deadline check always pass.
    for (const authTime of ['x', null, Number(decode(access).payload.iat) + 3600]) {
      await expect401(
        resign(access, demo.secret, (c) => (c.auth_time = authTime)),
        'AUTH_TOKEN_CLAIMS_INVALID',
      );
    }
  });

  it('refuses a valid token once the user check says the account is disabled', async () => {
    const { access_token } = await demo.login('carol');
    demo.users.update('carol', { active: false });
    try {
      await expect401(access_token, 'AUTH_USER_INACTIVE');
    } finally {
      demo.users.update('carol', { active: true });
    }
    await get(access_token).expect(200);
  });
});
