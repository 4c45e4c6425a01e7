import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from './index';

/**
 * The runtime names the package exports, pinned: adding one is a decision (an app will depend
 * on it), taken by editing this list and the README's reference in the same change.
 */
const EXPORTS = [
  'AuditSink',
  'AuthConfigError',
  'AuthError',
  'AuthModule',
  'AuthService',
  'BEARER_SCHEME',
  'COOKIE_SCHEME',
  'CacheManagerRevocationStore',
  'Clock',
  'ConnectionAuth',
  'CookieTransport',
  'CurrentUser',
  'InvalidTokenError',
  'JsonLinesAuditSink',
  'JwtAuthGuard',
  'LoggerAuditSink',
  'LoginEndpoint',
  'MemoryRateLimitStore',
  'MemoryRevocationStore',
  'NoRateLimit',
  'NoTokenRenewal',
  'OptionalAuth',
  'Public',
  'RateLimitGuard',
  'RateLimitStore',
  'RedisRateLimitStore',
  'RedisRevocationStore',
  'RefreshEndpoint',
  'RevocationService',
  'RevocationStore',
  'Roles',
  'RolesGuard',
  'SUPPORTED_ALGORITHMS',
  'StoreHealthIndicator',
  'TokenVerifier',
  'addAuthSchemes',
  'createSocketIoAdapter',
  'createWsAdapter',
  'extractBearerToken',
  'isAuthError',
];

describe('the public API', () => {
  it('exports exactly the pinned names', () => {
    expect(Object.keys(api).sort()).toEqual([...EXPORTS].sort());
  });

  it('documents every export in the README', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const reference = readme.slice(readme.indexOf('## Guards and decorators'));
    const documented = (name: string) =>
      new RegExp('`@?' + name + '(\\(|`)').test(reference.slice(0, reference.indexOf('\n## ', 5)));
    expect(EXPORTS.filter((name) => !documented(name))).toEqual([]);
  });
});
