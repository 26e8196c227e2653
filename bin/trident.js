#!/usr/bin/env node
'use strict';
// The CLI runs from the compiled output. `npm install` runs no lifecycle scripts here (.npmrc
// ignore-scripts), so the first run after a fresh install compiles dist/ once (tsc, about a minute).
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const main = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(main)) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    console.error('trident: dependencies are missing; run `npm install` in the Trident folder first');
    process.exit(1);
  }
  console.error('trident: compiling dist/ (first run after install)…');
  const built = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 2, 2] });
  if (built.status !== 0 || !existsSync(main)) {
    console.error('trident: the build failed; see the errors above (or run `npm run build`)');
    process.exit(1);
  }
}
require(main).main(process.argv).catch((error) => {
  console.error(`trident: ${error && error.message ? error.message : error}`);
  process.exit(1);
});
