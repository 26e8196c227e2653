import { runHead, withPadding, type LinearLayer } from '../heads';
import { blobs, crossEntropy, headOf, spanProblem } from './testing';
import { newHeadLayers, seededRandom, trainClassifier, trainSpanHead } from './train-heads';
import { loadTf } from './tfjs';

/** Share of rows whose argmax logit (model/heads.ts runHead, the runtime's path) is their class. */
function accuracy(layers: LinearLayer[], x: Float32Array, y: Int32Array, dim: number): number {
  const rows = y.length;
  const classes = layers[layers.length - 1].outSize;
  const logits = runHead(headOf(layers), x, rows);
  let right = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
    if (best === y[r]) right++;
  }
  expect(x.length).toBe(rows * dim);
  return right / rows;
}

const dim = 16;
const classes = 4;

describe('trainClassifier', () => {
  it('learns a separable problem from scratch to ≥ 97 % held-back accuracy, and leaks no tensors', async () => {
    const { tf } = await loadTf();
    const train = blobs(400, dim, classes, 1);
    const heldout = blobs(100, dim, classes, 2);
    const before = tf.memory().numTensors;
    const result = await trainClassifier({ init: newHeadLayers(dim, 8, classes, 3), classes, train, heldout, maxEpochs: 25, seed: 4 });
    expect(tf.memory().numTensors).toBe(before);
    expect(accuracy(result.layers, heldout.x, heldout.y, dim)).toBeGreaterThanOrEqual(0.97);
    expect(result.history[result.history.length - 1].loss).toBeLessThan(result.history[0].loss);
    expect(result.backend).toBe(tf.getBackend());
    expect(result.layers.map((l) => [l.outSize, l.inSize, l.activation])).toEqual([
      [8, dim, 'tanh'],
      [classes, 8, 'none'],
    ]);
  });

  it('warm-started from a perfect head, starts at a low loss and stays perfect', async () => {
    const train = blobs(200, dim, classes, 5, 0.5);
    const heldout = blobs(80, dim, classes, 6, 0.5);
    // The blobs' centres are the one-hot directions 0..classes-1: a linear head reading them is perfect.
    const weight = new Float32Array(classes * dim);
    for (let c = 0; c < classes; c++) weight[c * dim + c] = 8;
    const init = [{ weight, bias: new Float32Array(classes), inSize: dim, outSize: classes, activation: 'none' as const }];
    expect(accuracy(init, heldout.x, heldout.y, dim)).toBe(1);
    const result = await trainClassifier({ init, classes, train, heldout, maxEpochs: 5, seed: 1 });
    expect(result.history[0].loss).toBeLessThan(0.05);
    expect(accuracy(result.layers, heldout.x, heldout.y, dim)).toBe(1);
  });

  it('ignores rows of class -1: adding them changes no weight', async () => {
    const train = blobs(120, dim, classes, 7);
    const random = seededRandom(8);
    // Every third row becomes a noise row labelled -1, inserted between the real ones.
    const rows = train.rows + Math.floor(train.rows / 3);
    const x = new Float32Array(rows * dim);
    const y = new Int32Array(rows);
    let r = 0;
    for (let i = 0; i < train.rows; i++) {
      if (i % 3 === 0) {
        for (let k = 0; k < dim; k++) x[r * dim + k] = random() * 20 - 10;
        y[r++] = -1;
      }
      x.set(train.x.subarray(i * dim, (i + 1) * dim), r * dim);
      y[r++] = train.y[i];
    }
    const options = { classes, heldout: null, maxEpochs: 3, seed: 9 };
    const clean = await trainClassifier({ ...options, init: newHeadLayers(dim, 0, classes, 1), train });
    const noisy = await trainClassifier({ ...options, init: newHeadLayers(dim, 0, classes, 1), train: { x, y, rows, dim } });
    expect(noisy.layers[0].weight).toEqual(clean.layers[0].weight);
    expect(noisy.layers[0].bias).toEqual(clean.layers[0].bias);
  });

  it('stops early and returns the best held-back epoch: the starting weights when training only hurts', async () => {
    const train = blobs(200, dim, classes, 10);
    const heldout = blobs(80, dim, classes, 11);
    // Held-back labels shifted by one class: learning the training labels makes them worse.
    const shifted = { ...heldout, y: heldout.y.map((c) => (c + 1) % classes) };
    const init = newHeadLayers(dim, 0, classes, 12);
    const epochs: number[] = [];
    const result = await trainClassifier({
      init,
      classes,
      train,
      heldout: shifted,
      maxEpochs: 30,
      patience: 2,
      seed: 1,
      onEpoch: (p) => epochs.push(p.epoch),
    });
    expect(result.bestEpoch).toBe(0);
    expect(result.epochs).toBe(2);
    expect(epochs).toEqual([1, 2]);
    expect(result.layers[0].weight).toEqual(init[0].weight);
  });

  it('returns the weights of the epoch with the lowest held-back loss, as the runtime computes it', async () => {
    const train = blobs(300, dim, classes, 13, 2.5);
    const heldout = blobs(60, dim, classes, 14, 2.5);
    const result = await trainClassifier({
      init: newHeadLayers(dim, 32, classes, 15),
      classes,
      train,
      heldout,
      maxEpochs: 40,
      patience: 2,
      learningRate: 0.05,
      seed: 2,
    });
    const losses = result.history.map((h) => h.heldoutLoss!);
    const best = Math.min(...losses);
    expect(result.bestEpoch).toBeGreaterThan(0);
    expect(losses[result.bestEpoch - 1]).toBe(best);
    if (result.epochs < 40) expect(result.epochs).toBe(result.bestEpoch + 2);
    // The held-back loss tfjs reported for that epoch, recomputed from the returned layers by runHead.
    const logits = runHead(headOf(result.layers), heldout.x, heldout.rows);
    expect(crossEntropy(logits, heldout.y, classes)).toBeCloseTo(best, 4);
  });

  it('is deterministic for a seed on one backend, and the seed matters', async () => {
    const train = blobs(150, dim, classes, 16);
    const run = (seed: number) =>
      trainClassifier({ init: newHeadLayers(dim, 8, classes, 1), classes, train, heldout: null, maxEpochs: 3, seed });
    const [a, b, c] = [await run(5), await run(5), await run(6)];
    expect(b.layers.map((l) => l.weight)).toEqual(a.layers.map((l) => l.weight));
    expect(b.history).toEqual(a.history);
    expect(c.layers[0].weight).not.toEqual(a.layers[0].weight);
  });

  it('trains weights that model/heads.ts runs to the same logits as tfjs, for every activation', async () => {
    const { tf } = await loadTf();
    const train = blobs(100, dim, classes, 17);
    const layers = newHeadLayers(dim, 12, classes, 2);
    const init: LinearLayer[] = [
      { ...newHeadLayers(dim, 0, 12, 3)[0], activation: 'gelu' },
      { ...newHeadLayers(12, 0, 10, 4)[0], activation: 'relu' },
      { ...newHeadLayers(10, 0, 6, 5)[0], activation: 'tanh' },
      { ...newHeadLayers(6, 0, classes, 6)[0], activation: 'none' },
    ];
    expect(layers).toHaveLength(2);
    const { layers: trained } = await trainClassifier({ init, classes, train, heldout: null, maxEpochs: 2, seed: 1 });
    // tfjs's reading of the layout, written out independently of the trainer: y = act(x·Wᵀ + b).
    const expected = tf.tidy(() => {
      let y: ReturnType<typeof tf.tensor2d> = tf.tensor2d(train.x, [train.rows, dim]);
      for (const l of trained) {
        const z = tf.add(tf.matMul(y, tf.tensor2d(l.weight, [l.outSize, l.inSize]).transpose()), tf.tensor1d(l.bias)) as typeof y;
        y =
          l.activation === 'gelu'
            ? (tf.mul(z, tf.mul(0.5, tf.add(1, tf.erf(tf.div(z, Math.SQRT2))))) as typeof y)
            : l.activation === 'relu'
              ? tf.relu(z)
              : l.activation === 'tanh'
                ? tf.tanh(z)
                : z;
      }
      return Float32Array.from(y.dataSync());
    });
    const viaJs = runHead(headOf(trained), train.x, train.rows);
    const viaSimd = runHead(headOf(trained.map(withPadding)), train.x, train.rows);
    for (const actual of [viaJs, viaSimd]) {
      expect(actual).toHaveLength(expected.length);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      expect(worst).toBeLessThan(1e-4);
    }
  });

  it('refuses data that does not fit: a class out of range, a short x, an init of the wrong size', async () => {
    const train = blobs(20, dim, classes, 18);
    const init = newHeadLayers(dim, 0, classes, 1);
    await expect(
      trainClassifier({ init, classes, train: { ...train, y: train.y.map(() => classes) }, heldout: null, maxEpochs: 1 }),
    ).rejects.toMatchObject({
      code: 'TRAIN_DATA_INVALID',
    });
    await expect(
      trainClassifier({ init, classes, train: { ...train, x: train.x.subarray(1) }, heldout: null, maxEpochs: 1 }),
    ).rejects.toMatchObject({
      code: 'TRAIN_DATA_INVALID',
    });
    await expect(
      trainClassifier({ init: newHeadLayers(dim + 1, 0, classes, 1), classes, train, heldout: null, maxEpochs: 1 }),
    ).rejects.toMatchObject({
      code: 'TRAIN_DATA_INVALID',
    });
  });
});

describe('trainSpanHead', () => {
  /** Share of examples whose best masked start (and end) logit, by runHead, is the gold one. */
  function spanAccuracy(layers: LinearLayer[], data: ReturnType<typeof spanProblem>): { start: number; end: number } {
    const { n, maxLen, dim: d } = data;
    const logits = runHead(headOf(layers), data.x, n * maxLen);
    const right = { start: 0, end: 0 };
    for (let i = 0; i < n; i++) {
      for (const [column, key, gold] of [
        [0, 'start', data.start[i]],
        [1, 'end', data.end[i]],
      ] as const) {
        let best = -1;
        for (let t = 0; t < maxLen; t++) {
          if (data.mask[i * maxLen + t] !== 1) continue;
          if (best < 0 || logits[(i * maxLen + t) * 2 + column] > logits[(i * maxLen + best) * 2 + column]) best = t;
        }
        if (best === gold) right[key]++;
      }
    }
    expect(logits).toHaveLength(n * maxLen * 2);
    expect(d).toBe(dim);
    return { start: right.start / n, end: right.end / n };
  }

  it('learns to start where feature 0 peaks and end where feature 1 peaks, within the mask', async () => {
    const { tf } = await loadTf();
    const train = spanProblem(300, 12, dim, 1);
    // Each split is padded to its own longest row (the learner's held-back rows are rarely as long as the longest training row).
    const heldout = spanProblem(60, 9, dim, 2);
    const init = newHeadLayers(dim, 0, 2, 3);
    expect(spanAccuracy(init, heldout).start).toBeLessThan(0.5);
    const before = tf.memory().numTensors;
    const result = await trainSpanHead({ init, train, heldout, maxEpochs: 30, learningRate: 0.02, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    const { start, end } = spanAccuracy(result.layers, heldout);
    expect(start).toBeGreaterThanOrEqual(0.95);
    expect(end).toBeGreaterThanOrEqual(0.95);
    expect(result.history[0].heldoutLoss).toBeGreaterThan(result.history[result.bestEpoch - 1].heldoutLoss!);
  });

  it('refuses a gold start outside the mask', async () => {
    const train = spanProblem(10, 12, dim, 4);
    const start = Int32Array.from(train.start);
    start[3] = 0; // position 0 is a question token: never masked in
    await expect(
      trainSpanHead({ init: newHeadLayers(dim, 0, 2, 1), train: { ...train, start }, heldout: null, maxEpochs: 1 }),
    ).rejects.toMatchObject({
      code: 'TRAIN_DATA_INVALID',
    });
  });
});
