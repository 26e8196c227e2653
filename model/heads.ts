import * as path from 'node:path';
import { ModelArtifactError } from '../common/errors';
import type { HeadSpec, LoadedManifest } from './manifest';
import { readVerified } from './manifest';
import { parseSafetensors } from './safetensors';

export type Activation = 'none' | 'tanh' | 'relu' | 'gelu';

/** One `nn.Linear` layer: `weight` is `[out, in]`, `bias` is `[out]`, then the activation. */
export interface LinearLayer {
  weight: Float32Array;
  bias: Float32Array;
  inSize: number;
  outSize: number;
  activation: Activation;
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
 * starting at `offset`). Pure; blocks for rows·in·out multiply-adds (tiny for our heads).
 */
export function linear(layer: LinearLayer, x: Float32Array, rows: number, offset = 0): Float32Array {
  const { weight, bias, inSize, outSize, activation } = layer;
  const y = new Float32Array(rows * outSize);
  for (let r = 0; r < rows; r++) {
    const xBase = offset + r * inSize;
    for (let o = 0; o < outSize; o++) {
      let sum = bias[o];
      const wBase = o * inSize;
      for (let i = 0; i < inSize; i++) sum += x[xBase + i] * weight[wBase + i];
      y[r * outSize + o] = activate(sum, activation);
    }
  }
  return y;
}

/** A head ready to run: its manifest entry plus its layers. */
export interface Head {
  name: string;
  spec: HeadSpec;
  layers: LinearLayer[];
}

/** All layers in order over `rows` vectors; returns `[rows × labels]` logits. Pure. */
export function runHead(head: Head, x: Float32Array, rows: number, offset = 0): Float32Array {
  let y = linear(head.layers[0], x, rows, offset);
  for (let l = 1; l < head.layers.length; l++) y = linear(head.layers[l], y, rows);
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
        throw new ModelArtifactError(
          file,
          `layer ${l}: weight [${weight.shape}] / bias [${bias.shape}] do not fit input size ${inSize}`,
        );
      }
      inSize = outSize;
      return { weight: weight.data, bias: bias.data, inSize: wIn, outSize, activation: layer.activation };
    });
    if (inSize !== spec.labels.length) {
      throw new ModelArtifactError(file, `last layer has ${inSize} outputs but the head has ${spec.labels.length} labels`);
    }
    heads.set(name, { name, spec, layers });
  }
  return heads;
}
