import * as path from 'node:path';
import { ModelArtifactError } from '../common/errors';
import type { HeadSpec, LoadedManifest } from './manifest';
import { readVerified } from './manifest';
import { parseSafetensors } from './safetensors';
import { gemmSimd, simdAvailable } from './simd';

export type Activation = 'none' | 'tanh' | 'relu' | 'gelu';

/** One `nn.Linear` layer: `weight` is `[out, in]`, `bias` is `[out]`, then the activation. */
export interface LinearLayer {
  weight: Float32Array;
  bias: Float32Array;
  inSize: number;
  outSize: number;
  activation: Activation;
  /** `weight` with zero rows up to a multiple of 4 outputs, for the SIMD kernel (see withPadding). */
  padded?: Float32Array;
}

/** Adds the SIMD kernel's padded weight copy to a layer (done once, at load). */
export function withPadding(layer: LinearLayer): LinearLayer {
  const outPadded = Math.ceil(layer.outSize / 4) * 4;
  const padded = new Float32Array(outPadded * layer.inSize);
  padded.set(layer.weight);
  return { ...layer, padded };
}

/** erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), for the exact (erf) GELU of PyTorch. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

function activate(x: number, activation: Activation): number {
  switch (activation) {
    case 'none':
      return x;
    case 'tanh':
      return Math.tanh(x);
    case 'relu':
      return x > 0 ? x : 0;
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
  }
}

/**
 * `y = act(x · Wᵀ + b)` for `rows` input vectors stored row-major in `x` (`[rows × inSize]`,
 * starting at `offset`). Pure; blocks (synchronously) for rows·in·out multiply-adds: on the
 * WebAssembly SIMD kernel (simd.ts, ~17 GMAC/s) when the layer has its padded copy and `inSize`
 * is a multiple of 4, else in JavaScript (linearJs, ~2 GMAC/s). Throws nothing.
 */
export function linear(layer: LinearLayer, x: Float32Array, rows: number, offset = 0): Float32Array {
  if (layer.padded && layer.inSize % 4 === 0 && rows > 0 && simdAvailable()) return linearSimd(layer, x, rows, offset);
  return linearJs(layer, x, rows, offset);
}

/** linear() on the WebAssembly SIMD kernel (~8× the JavaScript loop; float32 lane sums). */
function linearSimd(layer: LinearLayer, x: Float32Array, rows: number, offset: number): Float32Array {
  const { bias, inSize, outSize, activation, padded } = layer;
  const outPadded = padded!.length / inSize;
  const raw = gemmSimd(x, offset, rows, inSize, padded!, outPadded);
  const y = outPadded === outSize ? raw : new Float32Array(rows * outSize);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outSize; o++) {
      const v = raw[r * outPadded + o] + bias[o];
      y[r * outSize + o] = activation === 'none' ? v : activate(v, activation);
    }
  }
  return y;
}

/**
 * linear() in plain JavaScript; also the reference the SIMD path is tested against. Two rows × four
 * outputs per inner loop (each x and W value loaded once for several sums): ~2.7× the naive loop
 * in V8, with the same summation order.
 */
export function linearJs(layer: LinearLayer, x: Float32Array, rows: number, offset = 0): Float32Array {
  const { weight: w, bias, inSize: n, outSize, activation } = layer;
  const y = new Float32Array(rows * outSize);
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    const xa = offset + r * n;
    const xc = xa + n;
    const ya = r * outSize;
    const yc = ya + outSize;
    let o = 0;
    for (; o + 4 <= outSize; o += 4) {
      let a0 = bias[o],
        a1 = bias[o + 1],
        a2 = bias[o + 2],
        a3 = bias[o + 3];
      let c0 = a0,
        c1 = a1,
        c2 = a2,
        c3 = a3;
      const w0 = o * n,
        w1 = w0 + n,
        w2 = w1 + n,
        w3 = w2 + n;
      for (let i = 0; i < n; i++) {
        const u = x[xa + i];
        const v = x[xc + i];
        const q0 = w[w0 + i],
          q1 = w[w1 + i],
          q2 = w[w2 + i],
          q3 = w[w3 + i];
        a0 += u * q0;
        a1 += u * q1;
        a2 += u * q2;
        a3 += u * q3;
        c0 += v * q0;
        c1 += v * q1;
        c2 += v * q2;
        c3 += v * q3;
      }
      y[ya + o] = a0;
      y[ya + o + 1] = a1;
      y[ya + o + 2] = a2;
      y[ya + o + 3] = a3;
      y[yc + o] = c0;
      y[yc + o + 1] = c1;
      y[yc + o + 2] = c2;
      y[yc + o + 3] = c3;
    }
    for (; o < outSize; o++) {
      let a = bias[o];
      let c = bias[o];
      const wb = o * n;
      for (let i = 0; i < n; i++) {
        a += x[xa + i] * w[wb + i];
        c += x[xc + i] * w[wb + i];
      }
      y[ya + o] = a;
      y[yc + o] = c;
    }
  }
  for (; r < rows; r++) {
    const xb = offset + r * n;
    for (let o = 0; o < outSize; o++) {
      let sum = bias[o];
      const wb = o * n;
      for (let i = 0; i < n; i++) sum += x[xb + i] * w[wb + i];
      y[r * outSize + o] = sum;
    }
  }
  if (activation !== 'none') for (let k = 0; k < y.length; k++) y[k] = activate(y[k], activation);
  return y;
}

/** A head ready to run: its manifest entry plus its layers. */
export interface Head {
  name: string;
  spec: HeadSpec;
  layers: LinearLayer[];
}

/**
 * All layers in order over `rows` vectors; returns `[rows × labels]` logits divided by the head's
 * calibration temperature (manifest `temperature`, absent = 1), i.e. what every decoding rule
 * softmaxes. Pure.
 */
export function runHead(head: Head, x: Float32Array, rows: number, offset = 0): Float32Array {
  let y = linear(head.layers[0], x, rows, offset);
  for (let l = 1; l < head.layers.length; l++) y = linear(head.layers[l], y, rows);
  const temperature = head.spec.temperature ?? 1;
  // Skipped at 1 so uncalibrated artifacts give bit-identical outputs.
  if (temperature !== 1) for (let k = 0; k < y.length; k++) y[k] /= temperature;
  return y;
}

/**
 * Loads every head named by the manifest, verifying each file's digest and each layer's shape
 * against `hidden_size`, the previous layer and the label count. Blocks while it reads the files.
 * Throws ModelArtifactError naming the file.
 */
export function loadHeads({ dir, manifest }: LoadedManifest): Map<string, Head> {
  const heads = new Map<string, Head>();
  for (const [name, spec] of Object.entries(manifest.heads)) {
    const file = path.join(dir, spec.file);
    const tensors = parseSafetensors(readVerified(dir, spec.file, spec.sha256), file);
    let inSize = manifest.encoder.hidden_size;
    const layers = spec.layers.map((layer, l): LinearLayer => {
      const weight = tensors.get(layer.weight);
      const bias = tensors.get(layer.bias);
      if (!weight || !bias) throw new ModelArtifactError(file, `layer ${l}: missing tensor ${weight ? layer.bias : layer.weight}`);
      const [outSize, wIn] = weight.shape;
      if (weight.shape.length !== 2 || wIn !== inSize || bias.shape.length !== 1 || bias.shape[0] !== outSize) {
        throw new ModelArtifactError(file, `layer ${l}: weight [${weight.shape}] / bias [${bias.shape}] do not fit input size ${inSize}`);
      }
      inSize = outSize;
      return withPadding({ weight: weight.data, bias: bias.data, inSize: wIn, outSize, activation: layer.activation });
    });
    if (inSize !== spec.labels.length) {
      throw new ModelArtifactError(file, `last layer has ${inSize} outputs but the head has ${spec.labels.length} labels`);
    }
    heads.set(name, { name, spec, layers });
  }
  return heads;
}
