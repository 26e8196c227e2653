#!/usr/bin/env node
'use strict';
// The CLI runs from the compiled output (npm install runs the build through `prepare`).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const main = join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!existsSync(main)) {
  console.error('trident: dist/ is missing; run `npm install` (or `npm run build`) in the Trident folder first');
  process.exit(1);
}
require(main).main(process.argv).catch((error) => {
  console.error(`trident: ${error && error.message ? error.message : error}`);
  process.exit(1);
});
