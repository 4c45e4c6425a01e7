import { randomBytes } from 'node:crypto';
import type { AuthModuleOptions } from '../auth-options.interface';
import { resolveAuthConfig } from '../auth-options.validate';
import { ClientResolver } from './client-resolver';

const resolver = (trustProxy?: AuthModuleOptions['trustProxy']) =>
  new ClientResolver(
    resolveAuthConfig({ secret: randomBytes(32), issuer: 'i', audience: 'a', trustProxy }),
  );
const request = (forwarded?: string, agent?: string) => ({
  headers: {
    ...(forwarded !== undefined && { 'x-forwarded-for': forwarded }),
    ...(agent !== undefined && { 'user-agent': agent }),
  },
  socket: { remoteAddress: '::ffff:10.0.0.1' },
});

describe('ClientResolver', () => {
  it('uses the socket peer and ignores X-Forwarded-For by default', () => {
    expect(resolver().address(request('203.0.113.9'))).toBe('10.0.0.1');
  });

  it.each([
    [1, '198.51.100.1, 203.0.113.9', '203.0.113.9'],
    [2, '198.51.100.1, 203.0.113.9', '198.51.100.1'],
    [true, '203.0.113.9:5123', '203.0.113.9'],
    [true, '[2001:db8:1:2::7]:443', '2001:db8:1:2::/64'],
    [true, 'unknown', '10.0.0.1'],
    [3, '203.0.113.9', '203.0.113.9'],
  ] as const)('with trustProxy %j reads %j as %j', (hops, forwarded, expected) => {
    expect(resolver(hops).address(request(forwarded))).toBe(expected);
  });

  it('keeps the user agent on one line and short', () => {
    const { userAgent } = resolver().of(
      request(undefined, `x\u0085{"a":1}\r\n\u2028${'y'.repeat(400)}`),
    );
    expect(userAgent).toMatch(/^x\{"a":1\}y+$/);
    expect(userAgent).toHaveLength(256);
  });
});
