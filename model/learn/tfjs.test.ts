import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runHead, type LinearLayer } from '../heads';
import { blobs, headOf } from './testing';
import { tfBackendNames, loadTf } from './tfjs';
import { newHeadLayers, trainClassifier } from './train-heads';

describe('loadTf', () => {
  it('loads the first backend of tensorflow, wasm, cpu that works, saying why the faster ones did not', async () => {
    const { tf, backend, fallbacks } = await loadTf('');
    expect(tfBackendNames).toContain(backend);
    expect(tf.getBackend()).toBe(backend);
    expect(fallbacks).toHaveLength(tfBackendNames.indexOf(backend));
  });

  it.each(['wasm', 'cpu'])('loads %s when forced, and computes on it', async (name) => {
    const { tf, backend, fallbacks } = await loadTf(name);
    expect(backend).toBe(name);
    expect(tf.getBackend()).toBe(name);
    expect(fallbacks).toEqual([]);
    expect(Array.from(tf.tidy(() => tf.erf(tf.tensor1d([0, 1])).dataSync()))[1]).toBeCloseTo(0.8427, 4);
  });

  it('refuses an unknown backend name', async () => {
    await expect(loadTf('gpu')).rejects.toMatchObject({ code: 'TFJS_BACKEND_UNAVAILABLE' });
  });
});

describe('what loads tfjs', () => {
  /** Source files (no tests) under the folders the processor, gateway and CLI are built from. */
  function sources(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'artifacts' ? [] : sources(file);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [file] : [];
    });
  }

  it('only model/learn/tfjs.ts imports a tfjs package at run time (everything else: types only), so nothing else starts TensorFlow', () => {
    const root = path.join(__dirname, '..', '..');
    const importers = ['common', 'consumers', 'model', 'gateway', 'cli', 'producers', 'schemas', 'stack']
      .flatMap((folder) => sources(path.join(root, folder)))
      .filter((file) =>
        /(?<!import type [^;]*)from '@tensorflow\/|import\('@tensorflow\/|require\('@tensorflow\//.test(readFileSync(file, 'utf8')),
      )
      .map((file) => path.relative(root, file));
    expect(importers).toEqual([path.join('model', 'learn', 'tfjs.ts')]);
  });
});

describe('the trainer on the wasm fallback', () => {
  const previous = process.env.TRIDENT_TFJS_BACKEND;
  beforeAll(() => {
    process.env.TRIDENT_TFJS_BACKEND = 'wasm';
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.TRIDENT_TFJS_BACKEND;
    else process.env.TRIDENT_TFJS_BACKEND = previous;
  });

  it('trains a gelu head that learns, with the layout model/heads.ts reads, leaking nothing', async () => {
    const { tf } = await loadTf();
    const dim = 16;
    const classes = 4;
    const train = blobs(200, dim, classes, 1);
    const heldout = blobs(80, dim, classes, 2);
    const init: LinearLayer[] = [{ ...newHeadLayers(dim, 0, 8, 3)[0], activation: 'gelu' }, newHeadLayers(8, 0, classes, 4)[0]];
    const before = tf.memory().numTensors;
    const result = await trainClassifier({ init, classes, train, heldout, maxEpochs: 20, learningRate: 0.01, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.backend).toBe('wasm');
    const logits = runHead(headOf(result.layers), heldout.x, heldout.rows);
    let right = 0;
    for (let r = 0; r < heldout.rows; r++) {
      const row = Array.from(logits.subarray(r * classes, (r + 1) * classes));
      if (row.indexOf(Math.max(...row)) === heldout.y[r]) right++;
    }
    expect(right / heldout.rows).toBeGreaterThanOrEqual(0.97);
  });
});
