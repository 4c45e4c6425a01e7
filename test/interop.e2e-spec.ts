import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { startDemo, type RunningDemo } from './support/demo-app';
import { decode } from './support/forge';

const run = promisify(execFile);
const ISSUER = 'https://auth.interop.test';
const AUDIENCE = 'interop-api';
/** Debian's python3 with python3-jwt (PyJWT 2.6), as Python services use it. */
const PYTHON = '/usr/bin/python3';
/** Verifies a token with PyJWT against a JWKS, as a Python resource server would; prints `sub`. */
const PYJWT_VERIFY = `
import json, sys, jwt
given = json.load(sys.stdin)
keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(given["jwks"]).keys}
kid = jwt.get_unverified_header(given["token"])["kid"]
claims = jwt.decode(given["token"], keys[kid].key, algorithms=["ES256"],
                    audience=given["audience"], issuer=given["issuer"])
print(claims["sub"])
`;

const hasPyJwt = existsSync(PYTHON) && existsSync('/usr/lib/python3/dist-packages/jwt');
/** Like the Redis and browser suites: without PyJWT, skipped with the reason, except in CI. */
const itWithPyJwt: jest.It = (() => {
  if (hasPyJwt) return it;
  if (process.env.CI) throw new Error('python3-jwt is missing: .ci/run installs it');
  console.warn('Skipping the PyJWT check: python3-jwt is missing (apt-get install python3-jwt)');
  return it.skip;
})();

/**
 * Other ecosystems verify TokenGuard tokens from their first millisecond: the registered time
 * claims are whole seconds (PyJWT compares `iat` with whole seconds and no leeway, so a fraction
 * made a fresh token "not yet valid" for up to a second), and the JWKS is all they need.
 */
describe('tokens other libraries verify through the JWKS', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY: privateKey
        .export({ type: 'pkcs8', format: 'pem' })
        .toString()
        .replace(/\n/g, '\\n'),
    });
  });
  afterAll(() => demo.close());

  const jwks = async () =>
    (await demo.http.get('/.well-known/jwks.json').expect(200)).body as JSONWebKeySet;

  it('writes iat, nbf, exp and auth_time as whole seconds', async () => {
    const { access_token, refresh_token } = await demo.login('alice');
    for (const token of [access_token, refresh_token]) {
      const { payload } = decode(token);
      for (const claim of ['iat', 'nbf', 'exp', 'auth_time']) {
        expect(Number.isInteger(payload[claim])).toBe(true);
      }
    }
  });

  itWithPyJwt('PyJWT verifies an access token straight after login', async () => {
    demo.clock.set(Date.now()); // the demo's clock stands still: now, for the login
    const { access_token } = await demo.login('alice');
    const child = run(PYTHON, ['-c', PYJWT_VERIFY]);
    child.child.stdin?.end(
      JSON.stringify({
        token: access_token,
        jwks: await jwks(),
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    );
    expect((await child).stdout.trim()).toBe(decode(access_token).payload.sub);
  });

  it('jose verifies an access token straight after login, and TokenGuard accepts a token jose signed', async () => {
    demo.clock.set(Date.now());
    const { access_token } = await demo.login('alice');
    const keySet = createLocalJWKSet(await jwks());
    const options = { issuer: ISSUER, audience: AUDIENCE };
    const { payload } = await jwtVerify(access_token, keySet, options);
    expect(payload.sub).toBe(decode(access_token).payload.sub);

    const now = Math.floor(Date.now() / 1000);
    const { kid } = decode(access_token).header;
    const fromJose = await new SignJWT({
      sid: 'jose-session',
      token_use: 'access',
      roles: ['user'],
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: String(kid) })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setSubject('3')
      .setJti('jose-token')
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 60)
      .sign(privateKey);
    await demo.http.get('/protected').set('Authorization', `Bearer ${fromJose}`).expect(200);
  });
});
