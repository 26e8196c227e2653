#!/usr/bin/env node
'use strict';
/**
 * `npm test`: everything, in order — system tools, type check and build, jest (unit specs, then
 * integration tests against one real broker and registry), then the training package's pytest, then
 * lint (ESLint, Prettier, ruff: scripts/lint.sh; a lint failure fails `npm test`).
 * Ends with one summary line: "N passed, N failed, N skipped".
 */
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const out = join(root, 'test-output');
mkdirSync(out, { recursive: true });
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
const totals = { passed: 0, failed: 0, skipped: 0 };
let failedStep = null;
const skipNotes = [];

function step(name, command, args) {
  console.error(`\n=== ${name}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  console.error(`=== ${name}: exit ${result.status} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (result.status !== 0 && !failedStep) failedStep = name;
  return result.status === 0;
}

step('tools', 'bash', ['scripts/install-tools.sh']);
step('setup', 'node', ['scripts/setup.js', '--patch-only']);
if (step('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'])) step('build', 'npm', ['run', '--silent', 'build']);

const jestReport = join(out, 'jest-results.json');
step('jest', 'npx', ['jest', '--ci', '--json', `--outputFile=${jestReport}`]);
if (existsSync(jestReport)) {
  const report = JSON.parse(readFileSync(jestReport, 'utf8'));
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  totals.skipped += report.numPendingTests + report.numTodoTests;
  if (report.numRuntimeErrorTestSuites > 0) totals.failed += report.numRuntimeErrorTestSuites;
}

if (existsSync(join(root, 'training', 'test.sh'))) {
  // training/test.sh creates or refreshes the training venv itself (idempotent), then runs pytest.
  step('training', 'bash', ['training/test.sh', `--junitxml=${join(out, 'pytest.xml')}`]);
  const xml = existsSync(join(out, 'pytest.xml')) ? readFileSync(join(out, 'pytest.xml'), 'utf8') : '';
  const suite = /<testsuite [^>]*?errors="(\d+)" failures="(\d+)" skipped="(\d+)" tests="(\d+)"/.exec(xml);
  if (suite) {
    const [errors, failures, skipped, tests] = suite.slice(1).map(Number);
    totals.failed += errors + failures;
    totals.skipped += skipped;
    totals.passed += tests - errors - failures - skipped;
  }
  // Why pytest skipped, one line per reason, so the summary below is not read as silent gaps.
  const reasons = new Map();
  for (const [, message] of xml.matchAll(/<skipped [^>]*?message="([^"]*)"/g)) {
    const reason = message
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  for (const [reason, count] of reasons) skipNotes.push(`training: ${count} skipped: ${reason}`);
}

for (const note of skipNotes) console.log(note);

// Last, so that a formatting slip never hides the test results; it still fails the run.
step('lint', 'bash', ['scripts/lint.sh']);

console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
if (failedStep) {
  console.error(`npm test failed at step: ${failedStep}`);
  process.exit(1);
}
