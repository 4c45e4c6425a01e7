// Nest 12 is ESM-only: @swc/jest compiles it (and our decorators) to CommonJS, node_modules included.
const transform = { '^.+\\.(t|j|mj)s$': ['@swc/jest', require('./test/support/swc-options')] };
const project = (displayName, rootDir, testMatch, globals = {}) => ({
  displayName,
  globals,
  rootDir,
  testMatch: [].concat(testMatch),
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns: [],
});

const FASTIFY_SUITES = [
  'guard',
  'login',
  'refresh',
  'roles',
  'revocation',
  'cookies',
  'sliding-session',
  'rate-limit',
  'audit',
  'security-headers',
  'openapi',
  'hostile-input',
  'graphql',
  'subscriptions',
  'gateway',
  'connection-input',
  'contexts',
];

/** @type {import('jest').Config} */
module.exports = {
  // A global option (Jest ignores it per project): e2e suites boot apps, spawn redis-servers and
  // launch Chromium, for which 5 s is tight on 2 busy cores.
  testTimeout: 30_000,
  globalSetup: '<rootDir>/test/support/redis-global-setup.js',
  projects: [
    project('unit', '<rootDir>/src', '<rootDir>/**/*.spec.ts'),
    project('e2e', '<rootDir>/test', '<rootDir>/**/*.e2e-spec.ts'),
    // The demo's HTTP suites again on Fastify (startDemo reads DEMO_ADAPTER).
    project(
      'e2e-fastify',
      '<rootDir>/test',
      FASTIFY_SUITES.map((name) => `<rootDir>/${name}.e2e-spec.ts`),
      { DEMO_ADAPTER: 'fastify' },
    ),
  ],
};
