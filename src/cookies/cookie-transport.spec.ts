import { JwtService } from '@nestjs/jwt';
import { HttpAdapterHost } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { resolveAuthConfig } from '../auth-options.validate';
import { AuthError } from '../errors/auth.errors';
import { TokenVerifier } from '../tokens/token.verifier';
import { CookieTransport } from './cookie-transport';

describe('CookieTransport.assertCsrf', () => {
  const config = resolveAuthConfig({
    secret: randomBytes(32),
    issuer: 'iss',
    audience: 'aud',
    tokenLocation: ['cookies'],
    cookies: { csrfSecret: randomBytes(32) },
  });
  const transport = new CookieTransport(
    config,
    new HttpAdapterHost(),
    new TokenVerifier(config, new JwtService()),
  );
  const check = (method: string, csrf?: string) => () =>
    transport.assertCsrf({ method, headers: csrf ? { 'x-csrf-token': csrf } : {} }, 'sid-1');

  it.each(['GET', 'HEAD', 'OPTIONS', 'get'])(
    'lets the safe method %s through without a token',
    (method) => {
      expect(check(method)).not.toThrow();
    },
  );

  // Not only POST/PUT/PATCH/DELETE: WebDAV and custom methods change state too.
  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND', 'MKCOL', 'SEARCH', 'post'])(
    'refuses %s without the session token, and accepts it with it',
    (method) => {
      expect(check(method)).toThrow(AuthError);
      expect(check(method, transport.csrfToken('other-sid'))).toThrow(AuthError);
      expect(check(method, transport.csrfToken('sid-1'))).not.toThrow();
    },
  );
});
