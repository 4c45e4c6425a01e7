import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from './index';
import * as testing from './testing';

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

/** `tokenguard/testing`, pinned the same way. */
const TESTING_EXPORTS = ['ManualClock', 'RecordingAuditSink', 'TestTokens'];

describe('the public API', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = (heading: string) => {
    const start = readme.indexOf(`\n## ${heading}`);
    return readme.slice(start, readme.indexOf('\n## ', start + 4));
  };

  it('exports exactly the pinned names', () => {
    expect(Object.keys(api).sort()).toEqual([...EXPORTS].sort());
    expect(Object.keys(testing).sort()).toEqual([...TESTING_EXPORTS].sort());
  });

  it('documents every name of tokenguard/testing in the README', () => {
    const text = section('Testing your app');
    expect(TESTING_EXPORTS.filter((name) => !text.includes(`\`${name}\``))).toEqual([]);
  });

  it('documents every export in the README', () => {
    const reference = readme.slice(readme.indexOf('## Guards and decorators'));
    const documented = (name: string) =>
      new RegExp('`@?' + name + '(\\(|`)').test(reference.slice(0, reference.indexOf('\n## ', 5)));
    expect(EXPORTS.filter((name) => !documented(name))).toEqual([]);
  });
});
