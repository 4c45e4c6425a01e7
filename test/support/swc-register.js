// `node --require ./test/support/swc-register.js test/demo/main.ts`: runs the demo's TypeScript
// in a process of its own, compiled as Jest compiles it. Packages load as they are (Node >= 20.19
// requires Nest 12's ES modules itself).
const { transformSync } = require('@swc/core');
const { readFileSync } = require('node:fs');
const options = require('./swc-options');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
