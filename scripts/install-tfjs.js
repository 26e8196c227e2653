#!/usr/bin/env node
'use strict';
/**
 * Installs @tensorflow/tfjs-node's native part (the learner's fast backend; model/learn/tfjs.ts).
 * The package's own install script downloads libtensorflow from a host these machines cannot reach
 * (and .npmrc's ignore-scripts keeps it from running anyway), so this builds it from what the package
 * registries serve: PyPI's tensorflow-cpu 2.15.1 wheel carries libtensorflow_cc.so.2 (which exports
 * the whole TensorFlow C API) and the C headers; the binding is compiled against them with
 * node-pre-gyp/node-gyp and the node headers of the running node.
 *
 * Run by scripts/setup.js (so by the CLI's first run, `npm test` and `npm run setup`); quick when the
 * binding is there. On failure it prints why on one line and exits 0: the learner then trains on
 * @tensorflow/tfjs with the wasm backend and says so. A failure is remembered in the package folder
 * (a fresh `npm install` forgets it) so that later runs do not retry on every command; `--force`
 * retries. TRIDENT_TFJS_NODE=skip skips the install (the Docker image does).
 * Usage: node scripts/install-tfjs.js [--force]
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const TF_WHEEL_VERSION = '2.15.1';
/** tfjs-node's install.js skips its download when deps/lib holds this file (LIBTENSORFLOW_VERSION 2.9.1). */
const INSTALL_JS_SENTINEL = 'libtensorflow.so.2.9.1';
const cacheDir = process.env.TRIDENT_CACHE_DIR || join(os.homedir(), '.cache', 'trident');
const wheelDir = join(cacheDir, 'wheels');

function packageDir() {
  try {
    return join(require.resolve('@tensorflow/tfjs-node/package.json', { paths: [root] }), '..');
  } catch {
    return null;
  }
}

/** The compiled binding, where tfjs-node's loader (node-pre-gyp find) looks for it. */
function bindingPath(dir) {
  const modulePath = require(join(dir, 'package.json')).binary.module_path.replace('{napi_build_version}', process.versions.napi);
  // node-pre-gyp builds for the highest napi version the package lists that this node supports.
  const versions = require(join(dir, 'package.json')).binary.napi_versions.filter((v) => v <= Number(process.versions.napi));
  const napi = versions.length ? Math.max(...versions) : Number(process.versions.napi);
  return join(dir, modulePath.replace(`napi-v${process.versions.napi}`, `napi-v${napi}`), 'tfjs_binding.node');
}

const markerPath = (dir) => join(dir, 'deps', 'trident-install.json');

/** Cheap (two stats): the CLI runs this before every command, so it must not load TensorFlow. */
function installed(dir) {
  return fs.existsSync(bindingPath(dir)) && fs.existsSync(join(dir, 'deps', 'lib', 'libtensorflow.so'));
}

function sh(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = `${result.stderr || ''}${result.stdout || ''}`.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${command} ${args.slice(0, 3).join(' ')} exited ${result.status}: ${tail}`);
  }
  return result.stdout;
}

function findWheel() {
  if (!fs.existsSync(wheelDir)) return null;
  const name = fs.readdirSync(wheelDir).find((f) => f.startsWith(`tensorflow_cpu-${TF_WHEEL_VERSION}-`) && f.endsWith('.whl'));
  return name ? join(wheelDir, name) : null;
}

/**
 * The wheel, from the cache or PyPI (207 MB, once per machine). Its shared libraries do not depend on
 * the Python version, so the download names cp311 and manylinux2014 explicitly: any local python3
 * with pip can fetch it.
 */
function wheel() {
  const cached = findWheel();
  if (cached) return { file: cached, downloaded: false };
  fs.mkdirSync(wheelDir, { recursive: true });
  sh('python3', [
    '-m',
    'pip',
    'download',
    `tensorflow-cpu==${TF_WHEEL_VERSION}`,
    '--no-deps',
    '--only-binary=:all:',
    '--python-version',
    '3.11',
    '--platform',
    'manylinux2014_x86_64',
    '--disable-pip-version-check',
    '--quiet',
    '-d',
    wheelDir,
  ]);
  const file = findWheel();
  if (!file) throw new Error(`pip download left no tensorflow_cpu-${TF_WHEEL_VERSION} wheel in ${wheelDir}`);
  return { file, downloaded: true };
}

/** Unpacks the two libraries and the C API headers into deps/ (Python's zipfile: no unzip needed). */
function extract(wheelFile, deps) {
  const script = `
import sys, zipfile, os, shutil
whl, deps = sys.argv[1], sys.argv[2]
libs = ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2')
heads = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/', 'tensorflow/include/tsl/')
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        n = info.filename
        if n.endswith('/'):
            continue
        if n in libs:
            dest = os.path.join(deps, 'lib', os.path.basename(n))
        elif n.startswith(heads):
            dest = os.path.join(deps, 'include', n[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out, 1 << 20)
`;
  sh('python3', ['-c', script, wheelFile, deps]);
  const lib = join(deps, 'lib');
  // Without strip the libraries stay ~2× larger; they work the same.
  const strip = spawnSync('strip', ['--strip-unneeded', join(lib, 'libtensorflow_cc.so.2'), join(lib, 'libtensorflow_framework.so.2')]);
  const links = {
    'libtensorflow.so': 'libtensorflow_cc.so.2',
    'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
    [INSTALL_JS_SENTINEL]: 'libtensorflow_cc.so.2',
  };
  for (const [link, target] of Object.entries(links)) {
    fs.rmSync(join(lib, link), { force: true });
    fs.symlinkSync(target, join(lib, link));
  }
  return strip.status === 0;
}

function sizeOf(path) {
  const stat = fs.lstatSync(path);
  if (!stat.isDirectory()) return stat.isFile() ? stat.size : 0;
  return fs.readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

function build(dir) {
  const preGyp = require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: [dir] });
  const args = [preGyp, 'install', '--build-from-source'];
  // node-gyp would download the node headers; the node install's own include/node serves (nodesource, official tarballs).
  const nodedir = join(process.execPath, '..', '..');
  if (fs.existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
  sh(process.execPath, args, { cwd: dir, env: { ...process.env, JOBS: String(Math.max(1, os.cpus().length)) } });
}

/** Loads the built package in a child (so this process never holds TensorFlow) and returns its backend name. */
function verify() {
  const code =
    "const tf=require('@tensorflow/tfjs-node');process.stdout.write(tf.getBackend()+' '+tf.add(tf.scalar(1),tf.scalar(2)).dataSync()[0])";
  const out = sh(process.execPath, ['-e', code], { cwd: root, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } }).trim();
  if (out !== 'tensorflow 3') throw new Error(`the built package loads but answers "${out}" (expected "tensorflow 3")`);
}

function installTfjs({ force = false } = {}) {
  const dir = packageDir();
  if (!dir || process.env.TRIDENT_TFJS_NODE === 'skip') return 'skipped';
  if (installed(dir)) return 'present';
  const marker = markerPath(dir);
  if (!force && fs.existsSync(marker) && JSON.parse(fs.readFileSync(marker, 'utf8')).ok === false) return 'failed-before';
  // Two commands started together after an install must not build into the same deps/ at once.
  const lock = join(dir, '.trident-installing');
  try {
    fs.mkdirSync(lock);
  } catch {
    if (Date.now() - fs.statSync(lock).mtimeMs < 10 * 60_000) {
      console.error(`trident: tfjs-node is being installed by another process (${lock}); this one goes on without it`);
      return 'busy';
    }
    // A lock older than any install: its process died.
  }
  const started = Date.now();
  console.error(`trident: installing tfjs-node's native TensorFlow for the learner (once, about a minute)…`);
  try {
    if (process.platform !== 'linux' || process.arch !== 'x64')
      throw new Error(`no tensorflow-cpu wheel recipe for ${process.platform}-${process.arch}`);
    const deps = join(dir, 'deps');
    fs.rmSync(deps, { recursive: true, force: true });
    const { file, downloaded } = wheel();
    const stripped = extract(file, deps);
    build(dir);
    verify();
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const mb = (sizeOf(deps) / 1e6).toFixed(0);
    console.error(
      `trident: tfjs-node ready (backend tensorflow): libtensorflow from tensorflow-cpu ${TF_WHEEL_VERSION} ` +
        `(${downloaded ? 'downloaded to' : 'cached in'} ${wheelDir}), ${mb} MB${stripped ? ' stripped' : ''} in node_modules, binding compiled, ${seconds} s`,
    );
    fs.writeFileSync(marker, JSON.stringify({ ok: true, at: new Date().toISOString(), seconds: Number(seconds) }) + '\n');
    return 'installed';
  } catch (error) {
    const reason = String(error && error.message ? error.message : error).replace(/\s+/g, ' ');
    fs.mkdirSync(join(dir, 'deps'), { recursive: true });
    fs.writeFileSync(marker, JSON.stringify({ ok: false, at: new Date().toISOString(), reason }) + '\n');
    console.error(
      `trident: tfjs-node not installed (${reason}); the learner will train on tfjs-wasm instead; retry with \`node scripts/install-tfjs.js --force\``,
    );
    return 'failed';
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

module.exports = { installTfjs };
if (require.main === module) installTfjs({ force: process.argv.includes('--force') });
