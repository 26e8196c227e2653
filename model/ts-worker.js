'use strict';
// Starts a TypeScript worker file (process.argv[2]) when Trident runs from its .ts sources, as under
// jest: each .ts file is compiled with @swc/core (a dev dependency) as it is required. Compiled
// builds never come here; they start the .js worker next to the compiled encoder.
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(process.argv[2]);
