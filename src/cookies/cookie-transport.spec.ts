import { HttpAdapterHost } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { resolveAuthConfig } from '../auth-options.validate';
import { AuthError } from '../errors/auth.errors';
import { CookieTransport } from './cookie-transport';

describe('CookieTransport.assertCsrf', () => {
  const config = resolveAuthConfig({
    secret: randomBytes(32),
    issuer: 'iss',
    audience: 'aud',
    tokenLocation: ['cookies'],
    cookies: { csrfSecret: randomBytes(32) },
  });
  const transport = new CookieTransport(config, new HttpAdapterHost());
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

describe('CookieTransport.assertOrigin (cookie-authenticated sockets)', () => {
  const transportWith = (secure: boolean, allowedOrigins: string[] = []) => {
    const config = resolveAuthConfig({
      secret: randomBytes(32),
      issuer: 'iss',
      audience: 'aud',
      tokenLocation: ['cookies'],
      cookies: { csrfSecret: randomBytes(32), secure, allowedOrigins },
    });
    return new CookieTransport(config, new HttpAdapterHost());
  };
  const allows = (transport: CookieTransport, origin: string | undefined, host = 'app.example') => {
    try {
      transport.assertOrigin({ headers: { host, ...(origin !== undefined && { origin }) } });
      return true;
    } catch (error) {
      expect((error as AuthError).code).toBe('AUTH_ORIGIN_REFUSED');
      return false;
    }
  };

  it('accepts its own host over HTTPS, and no Origin at all (no browser)', () => {
    const secure = transportWith(true);
    expect(allows(secure, 'https://app.example')).toBe(true);
    expect(allows(secure, undefined)).toBe(true);
  });

  it.each([
    'http://app.example', // same host, plain HTTP, with Secure cookies
    'ftp://app.example',
    'https://app.example.evil.example',
    'https://evil.example',
    'null',
    'not a url',
  ])('refuses %s', (origin) => {
    expect(allows(transportWith(true), origin)).toBe(false);
  });

  it('accepts plain HTTP on its own host only with cookies.secure off (localhost development)', () => {
    expect(allows(transportWith(false), 'http://app.example')).toBe(true);
    expect(allows(transportWith(false), 'http://other.example')).toBe(false);
  });

  it('accepts the origins listed in cookies.allowedOrigins', () => {
    const transport = transportWith(true, ['https://spa.example']);
    expect(allows(transport, 'https://spa.example')).toBe(true);
    expect(allows(transport, 'https://spa.example:8443')).toBe(false);
  });
});
