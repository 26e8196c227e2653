#!/usr/bin/env node
'use strict';
/**
 * What `npm install` leaves to the project (.npmrc sets ignore-scripts, so no lifecycle script runs):
 * apply `patches/` to node_modules (patch-package), install tfjs-node's native TensorFlow for the
 * learner (scripts/install-tfjs.js; on failure it says why and the learner uses tfjs-wasm) and
 * compile `dist/`. Idempotent and quick when all are done; run by the CLI's first command after an
 * install, by `npm test` and `npm run setup`.
 * Usage: node scripts/setup.js [--build | --patch-only]   (--build compiles even when dist/ exists)
 */
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

/** The patched kafkajs filter carries this line; an unpatched (fresh) install does not. */
function kafkajsPatched() {
  const file = join(root, 'node_modules', 'kafkajs', 'src', 'consumer', 'filterAbortedMessages.js');
  return !existsSync(file) || readFileSync(file, 'utf8').includes('ABORT_CONTROL_TYPE');
}

function run(what, args) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    console.error(`trident setup: ${what} failed (exit ${result.status}); see the lines above`);
    process.exit(1);
  }
}

/** tfjs-node's native part; a few stats when present. The Docker runtime image ships setup.js alone. */
function installTfjs() {
  const script = join(__dirname, 'install-tfjs.js');
  if (existsSync(script)) require(script).installTfjs();
}

function setup({ build = false, patchOnly = false } = {}) {
  const built = existsSync(join(root, 'dist', 'cli', 'main.js'));
  installTfjs();
  if (kafkajsPatched() && (patchOnly || (built && !build))) return;
  if (!existsSync(join(root, 'node_modules', 'patch-package')) || (!patchOnly && !existsSync(join(root, 'node_modules', 'typescript')))) {
    console.error('trident: dependencies are missing; run `npm install` in the Trident folder first');
    process.exit(1);
  }
  if (!kafkajsPatched()) {
    console.error('trident: applying patches/ to node_modules (first run after install)…');
    run('patch-package', [join(root, 'node_modules', 'patch-package', 'index.js'), '--error-on-fail', '--error-on-warn']);
  }
  if (patchOnly) return;
  if (build || !built) {
    if (!build) console.error('trident: compiling dist/ (first run after install)…');
    run('the build', [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')]);
  }
}

module.exports = { setup, kafkajsPatched };
if (require.main === module) setup({ build: process.argv.includes('--build'), patchOnly: process.argv.includes('--patch-only') });
