// How TypeScript is compiled for tests: by Jest (jest.config.js) and in the demo processes some
// suites start (swc-register.js). Nest 12 is ESM-only: Jest compiles it to CommonJS as well.
module.exports = {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'commonjs' },
};
