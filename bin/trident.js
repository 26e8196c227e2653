#!/usr/bin/env node
'use strict';
// The CLI runs from the compiled output. `npm install` runs no lifecycle scripts here (.npmrc
// ignore-scripts), so the first run after a fresh install patches node_modules and compiles dist/
// once (scripts/setup.js); later runs only check two files.
const { join } = require('node:path');
require(join(__dirname, '..', 'scripts', 'setup.js')).setup();
require(join(__dirname, '..', 'dist', 'cli', 'main.js'))
  .main(process.argv)
  .catch((error) => {
    console.error(`trident: ${error && error.message ? error.message : error}`);
    process.exit(1);
  });
