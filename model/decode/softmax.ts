/**
 * Numerically safe softmax: subtracts the maximum before exponentiating, so large logits never
 * overflow. Masked entries are passed as `-Infinity` and get probability 0. Pure; never blocks.
 */
export function softmax(logits: ArrayLike<number>, offset = 0, length = logits.length - offset): Float64Array {
  const out = new Float64Array(length);
  let max = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i];
    if (v > max) max = v;
  }
  // Everything masked (or empty): no distribution exists; return all zeros rather than NaN.
  if (max === -Infinity) return out;
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const e = Math.exp(logits[offset + i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < length; i++) out[i] /= sum;
  return out;
}

/** Index of the largest value (the first one on ties); -1 for an empty array. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (best === -1 || values[i] > bestValue) {
      best = i;
      bestValue = values[i];
    }
  }
  return best;
}
