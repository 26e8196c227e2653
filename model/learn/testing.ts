/**
 * Synthetic data for the trainer's tests and bench: seeded, so every run sees the same numbers.
 */
import type { Head } from '../heads';
import type { HeadSpec } from '../manifest';
import { seededRandom } from './train-heads';
import type { ClassifierData, SpanData } from './types';
import type { LinearLayer } from '../heads';

/** A standard normal sampler (Box–Muller) over a seeded generator. */
export function seededNormal(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * `rows` points in `dim` dimensions, class `r % classes`, centred at 4 on axis `class % dim` with
 * Gaussian noise of `spread` on every axis: separable (≥ 99 %) for spreads up to 1.
 */
export function blobs(rows: number, dim: number, classes: number, seed: number, spread = 1): ClassifierData {
  const normal = seededNormal(seed);
  const x = new Float32Array(rows * dim);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    y[r] = r % classes;
    for (let k = 0; k < dim; k++) x[r * dim + k] = normal() * spread;
    x[r * dim + (y[r] % dim)] += 4;
  }
  return { x, rows, dim, y };
}

/**
 * Rows of `maxLen` tokens: 3 question tokens (masked out, and carrying the largest feature values as
 * a trap), context tokens, one trailing [SEP] (masked out). The answer starts at the context token
 * whose feature 0 is 4 and ends, 0–3 tokens later, at the one whose feature 1 is 4; the rest is N(0, 1).
 */
export function spanProblem(n: number, maxLen: number, dim: number, seed: number): SpanData {
  const normal = seededNormal(seed);
  const random = seededRandom(seed + 1);
  const x = new Float32Array(n * maxLen * dim);
  const mask = new Uint8Array(n * maxLen);
  const start = new Int32Array(n);
  const end = new Int32Array(n);
  const first = 3;
  const last = maxLen - 2;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < maxLen; t++) {
      for (let k = 0; k < dim; k++) x[(i * maxLen + t) * dim + k] = normal();
      mask[i * maxLen + t] = t >= first && t <= last ? 1 : 0;
      if (t < first) x[(i * maxLen + t) * dim] = x[(i * maxLen + t) * dim + 1] = 6;
    }
    start[i] = first + Math.floor(random() * (last - first + 1));
    end[i] = Math.min(last, start[i] + Math.floor(random() * 4));
    x[(i * maxLen + start[i]) * dim] = 4;
    x[(i * maxLen + end[i]) * dim + 1] = 4;
  }
  return { x, n, maxLen, dim, mask, start, end };
}

/** Layers wrapped as a model/heads.ts Head, to run them the runtime's way. */
export function headOf(layers: LinearLayer[]): Head {
  return { name: 'test', spec: {} as HeadSpec, layers };
}

/** Mean softmax cross-entropy of `[rows × classes]` logits over the rows whose class is not -1. */
export function crossEntropy(logits: Float32Array, y: Int32Array, classes: number): number {
  let sum = 0;
  let count = 0;
  for (let r = 0; r < y.length; r++) {
    if (y[r] < 0) continue;
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    sum += logSum - row[y[r]];
    count++;
  }
  return sum / count;
}
