/**
 * REFERENCE TRAINER, pure TypeScript — a stand-in written on the learn-model branch so candidate.ts
 * can be built and tested before the tfjs trainer lands. At merge this whole file is replaced by the
 * tfjs one (same exported signatures: trainClassifier, trainSpanHead, newHeadLayers); nothing else
 * may import from it except through those three. It is honest but slow: plain mini-batch Adam on
 * softmax cross-entropy over the given layers (dense tanh/relu/none), in JavaScript loops;
 * `backend` says `js-reference`.
 */
import type { Activation, LinearLayer } from '../heads';
import { withPadding } from '../heads';
import { seededRandom } from '../evaluation/metrics';
import type { ClassifierData, ClassifierTrainOptions, SpanData, SpanTrainOptions, TrainProgress, TrainResult } from './types';

/** A new pooled head: dense `dim → hidden` (tanh) then `hidden → classes`, Xavier-uniform weights, zero biases. */
export function newHeadLayers(dim: number, hidden: number, classes: number, seed = 1): LinearLayer[] {
  const random = seededRandom(seed);
  const layer = (inSize: number, outSize: number, activation: Activation): LinearLayer => {
    const limit = Math.sqrt(6 / (inSize + outSize));
    const weight = Float32Array.from({ length: inSize * outSize }, () => (2 * random() - 1) * limit);
    return { weight, bias: new Float32Array(outSize), inSize, outSize, activation };
  };
  return [layer(dim, hidden, 'tanh'), layer(hidden, classes, 'none')];
}

const clone = (layers: ReadonlyArray<LinearLayer>): LinearLayer[] =>
  layers.map((l) => ({
    weight: Float32Array.from(l.weight),
    bias: Float32Array.from(l.bias),
    inSize: l.inSize,
    outSize: l.outSize,
    activation: l.activation,
  }));

/** Activations of every layer for `rows` inputs (index 0 = the input). */
function forward(layers: readonly LinearLayer[], x: Float32Array, rows: number): Float32Array[] {
  const acts = [x];
  for (const l of layers) {
    const input = acts[acts.length - 1];
    const out = new Float32Array(rows * l.outSize);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < l.outSize; o++) {
        let sum = l.bias[o];
        const wb = o * l.inSize;
        const xb = r * l.inSize;
        for (let i = 0; i < l.inSize; i++) sum += input[xb + i] * l.weight[wb + i];
        out[r * l.outSize + o] = l.activation === 'tanh' ? Math.tanh(sum) : l.activation === 'relu' ? Math.max(0, sum) : sum;
      }
    }
    acts.push(out);
  }
  return acts;
}

/** Gradients of the layers given d(loss)/d(last output) (the last layer must be linear). */
function backward(layers: readonly LinearLayer[], acts: Float32Array[], dOut: Float32Array, rows: number): LinearLayer[] {
  const grads = layers.map((l) => ({ ...l, weight: new Float32Array(l.weight.length), bias: new Float32Array(l.bias.length) }));
  let dz = dOut;
  for (let k = layers.length - 1; k >= 0; k--) {
    const l = layers[k];
    const input = acts[k];
    const g = grads[k];
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < l.outSize; o++) {
        const d = dz[r * l.outSize + o];
        if (d === 0) continue;
        g.bias[o] += d;
        const wb = o * l.inSize;
        const xb = r * l.inSize;
        for (let i = 0; i < l.inSize; i++) g.weight[wb + i] += d * input[xb + i];
      }
    }
    if (k === 0) break;
    const below = layers[k - 1];
    const dIn = new Float32Array(rows * l.inSize);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < l.outSize; o++) {
        const d = dz[r * l.outSize + o];
        if (d === 0) continue;
        const wb = o * l.inSize;
        for (let i = 0; i < l.inSize; i++) dIn[r * l.inSize + i] += d * l.weight[wb + i];
      }
    }
    for (let j = 0; j < dIn.length; j++) {
      const a = input[j];
      if (below.activation === 'tanh') dIn[j] *= 1 - a * a;
      else if (below.activation === 'relu') dIn[j] *= a > 0 ? 1 : 0;
      else if (below.activation === 'gelu') throw new Error('the reference trainer cannot train gelu layers');
    }
    dz = dIn;
  }
  return grads;
}

class Adam {
  private t = 0;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  constructor(
    private readonly params: Float32Array[],
    private readonly lr: number,
  ) {
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }
  step(grads: Float32Array[]): void {
    this.t++;
    const c1 = 1 - 0.9 ** this.t;
    const c2 = 1 - 0.999 ** this.t;
    this.params.forEach((p, k) => {
      const g = grads[k];
      const m = this.m[k];
      const v = this.v[k];
      for (let i = 0; i < p.length; i++) {
        m[i] = 0.9 * m[i] + 0.1 * g[i];
        v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
        p[i] -= (this.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
      }
    });
  }
}

const flat = (layers: LinearLayer[]): Float32Array[] => layers.flatMap((l) => [l.weight, l.bias]);

/** Softmax cross-entropy over `n` logits at `at`, restricted to `mask` when given; writes (p − onehot)·scale into d. */
function softmaxLoss(
  logits: Float32Array,
  at: number,
  stride: number,
  n: number,
  target: number,
  scale: number,
  d: Float32Array | null,
  mask?: Uint8Array,
  maskAt = 0,
): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (!mask || mask[maskAt + i]) max = Math.max(max, logits[at + i * stride]);
  let sum = 0;
  for (let i = 0; i < n; i++) if (!mask || mask[maskAt + i]) sum += Math.exp(logits[at + i * stride] - max);
  if (d)
    for (let i = 0; i < n; i++)
      d[at + i * stride] +=
        mask && !mask[maskAt + i] ? 0 : scale * (Math.exp(logits[at + i * stride] - max) / sum - (i === target ? 1 : 0));
  return -(logits[at + target * stride] - max - Math.log(sum));
}

/** Generic loop: shuffled mini-batches, Adam, early stopping on the held-back loss, best weights kept. */
async function train<D>(
  options: Omit<ClassifierTrainOptions, 'train' | 'heldout' | 'classes'>,
  count: (d: D) => number,
  batchLoss: (
    layers: LinearLayer[],
    d: D,
    items: number[],
    withGrads: boolean,
  ) => { loss: number; grads: LinearLayer[] | null; weight: number },
  trainData: D,
  heldout: D | null,
): Promise<TrainResult> {
  const layers = clone(options.init);
  const optimizer = new Adam(flat(layers), options.learningRate ?? 1e-3);
  const random = seededRandom(options.seed ?? 1);
  const batchSize = options.batchSize ?? 32;
  const patience = options.patience ?? 3;
  const history: TrainProgress[] = [];
  let best = { loss: Infinity, epoch: 0, layers: clone(layers) };
  const meanLoss = (d: D): number => {
    const all = Array.from({ length: count(d) }, (_, i) => i);
    const { loss, weight } = batchLoss(layers, d, all, false);
    return weight > 0 ? loss / weight : 0;
  };
  for (let epoch = 1; epoch <= options.maxEpochs; epoch++) {
    const order = Array.from({ length: count(trainData) }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let total = 0;
    let weight = 0;
    for (let at = 0; at < order.length; at += batchSize) {
      const result = batchLoss(layers, trainData, order.slice(at, at + batchSize), true);
      total += result.loss;
      weight += result.weight;
      if (result.grads && result.weight > 0) optimizer.step(flat(result.grads).map((g) => g.map((v) => v / result.weight)));
    }
    const heldoutLoss = heldout && count(heldout) > 0 ? meanLoss(heldout) : null;
    const progress = { epoch, epochs: options.maxEpochs, loss: weight > 0 ? total / weight : 0, heldoutLoss };
    history.push(progress);
    options.onEpoch?.(progress);
    await new Promise((resolve) => setImmediate(resolve)); // let the event loop breathe between epochs
    const watched = heldoutLoss ?? progress.loss;
    if (watched < best.loss) best = { loss: watched, epoch, layers: clone(layers) };
    else if (heldoutLoss !== null && epoch - best.epoch >= patience) break;
  }
  const final = heldout ? best.layers : clone(layers);
  return {
    layers: final.map(withPadding),
    epochs: history.length,
    bestEpoch: heldout ? best.epoch : history.length,
    history,
    backend: 'js-reference',
  };
}

/** Rows → classes, softmax cross-entropy, rows with y = -1 ignored. */
export function trainClassifier(options: ClassifierTrainOptions): Promise<TrainResult> {
  const classes = options.classes;
  return train<ClassifierData>(
    options,
    (d) => d.rows,
    (layers, d, items, withGrads) => {
      const kept = items.filter((i) => d.y[i] >= 0);
      const x = new Float32Array(kept.length * d.dim);
      kept.forEach((i, k) => x.set(d.x.subarray(i * d.dim, (i + 1) * d.dim), k * d.dim));
      const acts = forward(layers, x, kept.length);
      const logits = acts[acts.length - 1];
      const dOut = withGrads ? new Float32Array(logits.length) : null;
      let loss = 0;
      kept.forEach((i, k) => (loss += softmaxLoss(logits, k * classes, 1, classes, d.y[i], 1, dOut)));
      return { loss, weight: kept.length, grads: dOut && kept.length > 0 ? backward(layers, acts, dOut, kept.length) : null };
    },
    options.train,
    options.heldout,
  );
}

/** Start/end over the context positions of each row: two softmaxes over the masked positions, mean of their cross-entropies. */
export function trainSpanHead(options: SpanTrainOptions): Promise<TrainResult> {
  return train<SpanData>(
    options,
    (d) => d.n,
    (layers, d, items, withGrads) => {
      const rows = items.length * d.maxLen;
      const x = new Float32Array(rows * d.dim);
      items.forEach((i, k) => x.set(d.x.subarray(i * d.maxLen * d.dim, (i + 1) * d.maxLen * d.dim), k * d.maxLen * d.dim));
      const acts = forward(layers, x, rows);
      const logits = acts[acts.length - 1];
      const dOut = withGrads ? new Float32Array(logits.length) : null;
      let loss = 0;
      items.forEach((i, k) => {
        const at = k * d.maxLen * 2;
        loss += 0.5 * softmaxLoss(logits, at, 2, d.maxLen, d.start[i], 0.5, dOut, d.mask, i * d.maxLen);
        loss += 0.5 * softmaxLoss(logits, at + 1, 2, d.maxLen, d.end[i], 0.5, dOut, d.mask, i * d.maxLen);
      });
      return { loss, weight: items.length, grads: dOut && items.length > 0 ? backward(layers, acts, dOut, rows) : null };
    },
    options.train,
    options.heldout,
  );
}
