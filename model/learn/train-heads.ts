/**
 * The head trainer: fits `nn.Linear` stacks (model/heads.ts LinearLayer) on frozen encoder features
 * with tfjs. Weights stay in PyTorch's layout (`weight [out × in]`, `y = x·Wᵀ + b`) on both sides, so
 * what is trained here is what model/heads.ts runHead computes, with no transposes on export.
 *
 * Training: Adam on softmax cross-entropy, shuffled mini-batches from a seeded generator (the same
 * seed, data and backend give the same weights), early stopping on the held-back loss with
 * patience, returning the best epoch's weights. Epoch 0 is the starting point: when no epoch beats
 * the starting weights on the held-back split (a warm start that cannot be improved), they are
 * returned unchanged (bestEpoch 0).
 */
import type * as tfjs from '@tensorflow/tfjs';
import { TridentError } from '../../common/errors';
import { trainerErrorCodes } from '../../common/error-codes';
import { seededRandom } from '../../common/random';
import type { Activation, LinearLayer } from '../heads';
import { loadTf, type Tf } from './tfjs';
import type { ClassifierData, ClassifierTrainOptions, SpanData, SpanTrainOptions, TrainProgress, TrainResult } from './types';

export const trainDefaults = { batchSize: 32, learningRate: 1e-3, patience: 3, seed: 1 } as const;

/** Added to the logits of positions outside the span mask: their softmax share is e^-10000 = 0. */
const MASKED_LOGIT = -1e4;

function invalid(message: string): TridentError {
  return new TridentError(trainerErrorCodes.TRAIN_DATA_INVALID, message);
}

export { seededRandom };

function shuffle(items: number[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

/**
 * Fresh layers for a new head, PyTorch's `nn.Linear` default initialisation (U(±1/√in) for weight
 * and bias), seeded: `dim → hidden (tanh) → classes`, or `dim → classes` when `hidden` is 0. Pure.
 */
export function newHeadLayers(dim: number, hidden: number, classes: number, seed: number): LinearLayer[] {
  const random = seededRandom(seed);
  const layer = (inSize: number, outSize: number, activation: Activation): LinearLayer => {
    const bound = 1 / Math.sqrt(inSize);
    const weight = new Float32Array(outSize * inSize).map(() => (random() * 2 - 1) * bound);
    const bias = new Float32Array(outSize).map(() => (random() * 2 - 1) * bound);
    return { weight, bias, inSize, outSize, activation };
  };
  return hidden > 0 ? [layer(dim, hidden, 'tanh'), layer(hidden, classes, 'none')] : [layer(dim, classes, 'none')];
}

function checkLayers(init: ReadonlyArray<LinearLayer>, dim: number, outputs: number, what: string): void {
  if (init.length === 0) throw invalid(`${what}: init has no layers`);
  let inSize = dim;
  init.forEach((layer, l) => {
    if (layer.inSize !== inSize || layer.weight.length !== layer.outSize * layer.inSize || layer.bias.length !== layer.outSize) {
      throw invalid(
        `${what}: init layer ${l} is ${layer.outSize}×${layer.inSize} (weight ${layer.weight.length}, bias ${layer.bias.length}) after input size ${inSize}`,
      );
    }
    inSize = layer.outSize;
  });
  if (inSize !== outputs) throw invalid(`${what}: init ends with ${inSize} outputs, expected ${outputs}`);
}

interface Params {
  weight: tfjs.Variable;
  bias: tfjs.Variable;
  activation: Activation;
}

function activate(tf: Tf, x: tfjs.Tensor2D, activation: Activation): tfjs.Tensor2D {
  switch (activation) {
    case 'none':
      return x;
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
    case 'gelu':
      // PyTorch's exact GELU, as model/heads.ts computes it.
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as tfjs.Tensor2D;
  }
}

function forward(tf: Tf, params: Params[], x: tfjs.Tensor2D): tfjs.Tensor2D {
  let y = x;
  for (const p of params) y = activate(tf, tf.add(tf.matMul(y, p.weight, false, true), p.bias) as tfjs.Tensor2D, p.activation);
  return y;
}

/** Copies out of the backend (tfjs-node's arrays come from another realm; jest and callers want plain ones). */
function read(tensor: tfjs.Tensor): Float32Array {
  return Float32Array.from(tensor.dataSync() as Float32Array);
}

function snapshot(params: Params[]): LinearLayer[] {
  return params.map((p) => {
    const [outSize, inSize] = p.weight.shape;
    return { weight: read(p.weight), bias: read(p.bias), inSize, outSize, activation: p.activation };
  });
}

/** One problem for fit(): items are rows (classifier) or examples (span head). */
interface Problem {
  train: number[];
  heldout: number[] | null;
  /** Mean loss over `items` of one split; called inside tf.tidy / optimizer.minimize. */
  loss(split: 'train' | 'heldout', items: number[], params: Params[]): tfjs.Scalar;
  /** Items per held-back evaluation call (bounds memory on big span batches). */
  evalChunk: number;
}

type FitOptions = Omit<ClassifierTrainOptions, 'train' | 'heldout' | 'classes'>;

async function fit(tf: Tf, backend: string, problem: Problem, options: FitOptions): Promise<TrainResult> {
  const batchSize = options.batchSize ?? trainDefaults.batchSize;
  const patience = options.patience ?? trainDefaults.patience;
  const random = seededRandom(options.seed ?? trainDefaults.seed);
  // tidy: the variables keep their values; the tensors they were made from go.
  const params: Params[] = options.init.map((layer, l) =>
    tf.tidy(() => ({
      weight: tf.variable(tf.tensor2d(layer.weight, [layer.outSize, layer.inSize]), true, `w${l}`),
      bias: tf.variable(tf.tensor1d(layer.bias), true, `b${l}`),
      activation: layer.activation,
    })),
  );
  const variables = params.flatMap((p) => [p.weight, p.bias]);
  const optimizer = tf.train.adam(options.learningRate ?? trainDefaults.learningRate);

  const heldoutLoss = (): number | null => {
    if (!problem.heldout || problem.heldout.length === 0) return null;
    let sum = 0;
    for (let i = 0; i < problem.heldout.length; i += problem.evalChunk) {
      const items = problem.heldout.slice(i, i + problem.evalChunk);
      sum += tf.tidy(() => problem.loss('heldout', items, params).dataSync()[0]) * items.length;
    }
    return sum / problem.heldout.length;
  };

  try {
    const history: TrainProgress[] = [];
    const initialLoss = heldoutLoss();
    let best = { loss: initialLoss, epoch: 0, layers: initialLoss === null ? [] : snapshot(params) };
    let epoch = 0;
    const order = [...problem.train];
    while (epoch < options.maxEpochs) {
      epoch++;
      shuffle(order, random);
      let sum = 0;
      for (let i = 0; i < order.length; i += batchSize) {
        const items = order.slice(i, i + batchSize);
        sum += tf.tidy(() => optimizer.minimize(() => problem.loss('train', items, params), true, variables)!.dataSync()[0]) * items.length;
        // Lets the learner's consumer heartbeat and its progress bar draw while a long epoch runs.
        if ((i / batchSize) % 16 === 15) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const progress: TrainProgress = {
        epoch,
        epochs: options.maxEpochs,
        loss: sum / Math.max(1, order.length),
        heldoutLoss: heldoutLoss(),
      };
      history.push(progress);
      options.onEpoch?.(progress);
      if (progress.heldoutLoss === null) {
        best = { loss: null, epoch, layers: [] };
      } else if (best.loss === null || progress.heldoutLoss < best.loss) {
        best = { loss: progress.heldoutLoss, epoch, layers: snapshot(params) };
      } else if (epoch - best.epoch >= patience) {
        break;
      }
    }
    const layers = best.loss === null ? snapshot(params) : best.layers;
    return { layers, epochs: epoch, bestEpoch: best.epoch, history, backend };
  } finally {
    optimizer.dispose();
    for (const v of variables) v.dispose();
  }
}

function checkClassifierData(data: ClassifierData, classes: number, what: string): number[] {
  if (data.x.length !== data.rows * data.dim || data.y.length !== data.rows) {
    throw invalid(`${what}: x has ${data.x.length} values and y ${data.y.length} for ${data.rows} rows × ${data.dim}`);
  }
  const kept: number[] = [];
  for (let r = 0; r < data.rows; r++) {
    const y = data.y[r];
    if (y === -1) continue;
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw invalid(`${what}: row ${r} has class ${y}, expected -1 or 0..${classes - 1}`);
    kept.push(r);
  }
  return kept;
}

/**
 * Trains a classifier head (pooled rows or token rows) from `init`. Rows with class -1 take no part
 * (they are dropped before shuffling: the result equals training without them). Async: yields to the
 * event loop between batches, but each batch blocks it (milliseconds). Throws TridentError
 * TRAIN_DATA_INVALID on inconsistent shapes or classes, TFJS_BACKEND_UNAVAILABLE without a backend.
 */
export async function trainClassifier(options: ClassifierTrainOptions): Promise<TrainResult> {
  const { train, heldout, classes } = options;
  checkLayers(options.init, train.dim, classes, 'classifier');
  const trainRows = checkClassifierData(train, classes, 'train');
  const heldoutRows = heldout ? checkClassifierData(heldout, classes, 'heldout') : null;
  if (heldout && heldout.dim !== train.dim) throw invalid(`heldout dim ${heldout.dim} ≠ train dim ${train.dim}`);
  if (trainRows.length === 0) throw invalid('train: no row has a class');
  const { tf, backend } = await loadTf();

  const loss = (split: 'train' | 'heldout', rows: number[], params: Params[]): tfjs.Scalar => {
    const data = split === 'train' ? train : heldout!;
    const x = new Float32Array(rows.length * data.dim);
    const y = new Int32Array(rows.length);
    rows.forEach((r, i) => {
      x.set(data.x.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim);
      y[i] = data.y[r];
    });
    const logits = forward(tf, params, tf.tensor2d(x, [rows.length, data.dim]));
    const target = tf.oneHot(tf.tensor1d(y, 'int32'), classes);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tfjs.Scalar;
  };
  return fit(tf, backend, { train: trainRows, heldout: heldoutRows, loss, evalChunk: 1024 }, options);
}

function checkSpanData(data: SpanData, what: string): number[] {
  const { n, maxLen, dim } = data;
  if (data.x.length !== n * maxLen * dim || data.mask.length !== n * maxLen || data.start.length !== n || data.end.length !== n) {
    throw invalid(
      `${what}: x ${data.x.length}, mask ${data.mask.length}, start ${data.start.length}, end ${data.end.length} do not fit ${n} × ${maxLen} × ${dim}`,
    );
  }
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = data.start[i];
    const end = data.end[i];
    if (start === -1 && end === -1) continue;
    for (const [name, p] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (!Number.isInteger(p) || p < 0 || p >= maxLen || data.mask[i * maxLen + p] !== 1) {
        throw invalid(`${what}: example ${i} has ${name} ${p}, not a masked position of 0..${maxLen - 1}`);
      }
    }
    if (end < start) throw invalid(`${what}: example ${i} ends (${end}) before it starts (${start})`);
    kept.push(i);
  }
  return kept;
}

/**
 * Trains the answers head: `init` maps each token's hidden state to two logits (start, end); the loss
 * is the cross-entropy of the gold start over the row's masked positions plus that of the gold end.
 * Examples with start and end -1 take no part. Async like trainClassifier; same errors.
 */
export async function trainSpanHead(options: SpanTrainOptions): Promise<TrainResult> {
  const { train, heldout } = options;
  checkLayers(options.init, train.dim, 2, 'span head');
  const trainItems = checkSpanData(train, 'train');
  const heldoutItems = heldout ? checkSpanData(heldout, 'heldout') : null;
  // Each split is padded to its own longest row; only the hidden size must agree.
  if (heldout && heldout.dim !== train.dim) throw invalid(`heldout hidden size ${heldout.dim} ≠ train ${train.dim}`);
  if (trainItems.length === 0) throw invalid('train: no example has a span');
  const { tf, backend } = await loadTf();
  const { dim } = train;

  const loss = (split: 'train' | 'heldout', items: number[], params: Params[]): tfjs.Scalar => {
    const data = split === 'train' ? train : heldout!;
    const { maxLen } = data;
    const b = items.length;
    const x = new Float32Array(b * maxLen * dim);
    const penalty = new Float32Array(b * maxLen);
    const start = new Int32Array(b);
    const end = new Int32Array(b);
    items.forEach((e, i) => {
      x.set(data.x.subarray(e * maxLen * dim, (e + 1) * maxLen * dim), i * maxLen * dim);
      for (let t = 0; t < maxLen; t++) penalty[i * maxLen + t] = data.mask[e * maxLen + t] === 1 ? 0 : MASKED_LOGIT;
      start[i] = data.start[e];
      end[i] = data.end[e];
    });
    const logits = tf.reshape(forward(tf, params, tf.tensor2d(x, [b * maxLen, dim])), [b, maxLen, 2]);
    const maskAdd = tf.tensor2d(penalty, [b, maxLen]);
    const ce = (column: number, gold: Int32Array): tfjs.Scalar => {
      const scores = tf.add(tf.reshape(tf.slice(logits, [0, 0, column], [b, maxLen, 1]), [b, maxLen]), maskAdd);
      const target = tf.oneHot(tf.tensor1d(gold, 'int32'), maxLen);
      return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(scores)), 1))) as tfjs.Scalar;
    };
    return tf.add(ce(0, start), ce(1, end));
  };
  return fit(tf, backend, { train: trainItems, heldout: heldoutItems, loss, evalChunk: 64 }, options);
}
