import jws from 'jws';
import { CookieTransport, JwtAuthGuard } from '../src/index';
import { startDemo, type RunningDemo } from './support/demo-app';

/**
 * One guarded request, counted: the token is looked up once, decoded once and its signature
 * checked once (by jsonwebtoken, through jws); a second request with the same token is found in
 * the verified-token cache and decodes and verifies nothing.
 */
describe('one path for a token', () => {
  let demo: RunningDemo;
  beforeAll(async () => (demo = await startDemo()));
  afterAll(() => demo.close());
  afterEach(() => jest.restoreAllMocks());

  const counting = (token: string) => {
    const decode = jest.spyOn(jws, 'decode');
    const verify = jest.spyOn(jws, 'verify');
    const find = jest.spyOn(
      CookieTransport.prototype as unknown as { find: (request: unknown) => unknown },
      'find',
    );
    const of = (spy: { mock: { calls: readonly (readonly unknown[])[] } }) =>
      spy.mock.calls.filter(([first]) => first === token);
    return () => ({
      decoded: of(decode).length,
      verified: of(verify).length,
      found: find.mock.calls.length,
    });
  };

  it('finds, decodes and verifies the token once, then neither decodes nor verifies it again', async () => {
    const { access_token } = await demo.login('alice');
    const call = () => demo.http.get('/admin/users').set('Authorization', `Bearer ${access_token}`);

    const first = counting(access_token);
    await call().expect(200);
    expect(first()).toEqual({ found: 1, decoded: 1, verified: 1 });
    jest.restoreAllMocks();

    const second = counting(access_token);
    await call().expect(200);
    expect(second()).toEqual({ found: 1, decoded: 0, verified: 0 });
  });

  it("leaves passport's session fields off the app's request (passport gets one of its own)", async () => {
    const { access_token } = await demo.login('alice');
    const authenticate = jest.spyOn(JwtAuthGuard.prototype, 'authenticate');
    await demo.http.get('/protected').set('Authorization', `Bearer ${access_token}`).expect(200);
    const request = authenticate.mock.calls[0]?.[0] as unknown as Record<string, unknown>;
    expect(request.user).toMatchObject({ sub: '1' });
    const passportFields = ['login', 'logIn', 'logout', 'logOut', 'isAuthenticated'];
    passportFields.push('isUnauthenticated', '_sessionManager', 'authInfo');
    expect(passportFields.filter((field) => field in request)).toEqual([]);
  });

  it('refuses a bad signature after one decode and one verification, with its code', async () => {
    const { access_token } = await demo.login('alice');
    const [header, payload, signature] = access_token.split('.') as [string, string, string];
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    const forged = `${header}.${payload}.${flipped}`;
    const count = counting(forged);
    const res = await demo.http
      .get('/protected')
      .set('Authorization', `Bearer ${forged}`)
      .expect(401);
    expect(res.body.code).toBe('AUTH_TOKEN_SIGNATURE_INVALID');
    expect(count()).toEqual({ found: 1, decoded: 1, verified: 1 });
  });

  it('keeps the coded reason of a header the key choice refuses (jsonwebtoken keeps only a message)', async () => {
    const { access_token } = await demo.login('alice');
    const [, payload, signature] = access_token.split('.') as [string, string, string];
    const header = Buffer.from(
      JSON.stringify({ alg: 'HS256', typ: 'at+jwt', jku: 'https://evil.example/jwks' }),
    ).toString('base64url');
    const res = await demo.http
      .get('/protected')
      .set('Authorization', `Bearer ${header}.${payload}.${signature}`)
      .expect(401);
    expect(res.body.code).toBe('AUTH_TOKEN_HEADER_REFUSED');
  });
});
