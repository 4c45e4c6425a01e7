// Nest 12 is ESM-only: @swc/jest compiles it (and our decorators) to CommonJS, node_modules included.
const transform = {
  '^.+\\.(t|j|mj)s$': [
    '@swc/jest',
    {
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
      },
      module: { type: 'commonjs' },
    },
  ],
};
const project = (displayName, rootDir, testMatch, testTimeout) => ({
  displayName,
  testTimeout,
  rootDir,
  testMatch: [testMatch],
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns: [],
});

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/test/support/redis-global-setup.js',
  projects: [
    project('unit', '<rootDir>/src', '<rootDir>/**/*.spec.ts', 5_000),
    // e2e suites boot apps, spawn redis-servers and launch Chromium: 5 s is tight on 2 busy cores.
    project('e2e', '<rootDir>/test', '<rootDir>/**/*.e2e-spec.ts', 30_000),
  ],
};
