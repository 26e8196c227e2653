/**
 * How a sequence head's per-window outputs become one text's label probabilities (manifest
 * `window_aggregation`, model/README.md). Mirrors `aggregate_windows` in
 * training/trident_training/inference.py, which measures every rule on the dev sets.
 */
import { softmax } from './softmax';

export const WINDOW_AGGREGATIONS = ['mean-probabilities', 'mean-logits', 'length-weighted'] as const;
export type WindowAggregation = (typeof WINDOW_AGGREGATIONS)[number];
/** What artifacts without the key get: the rule every artifact used before the key existed. */
export const DEFAULT_WINDOW_AGGREGATION: WindowAggregation = 'mean-probabilities';

/**
 * Label probabilities of one text from its windows' logits (already divided by the head's
 * temperature) and each window's number of text tokens (no [CLS]/[SEP]):
 * - `mean-probabilities`: mean over windows of softmax(logits);
 * - `mean-logits`: softmax of the mean over windows of the logits;
 * - `length-weighted`: mean of softmax(logits) weighted by text tokens, so a short last window
 *   (mostly overlap) counts less.
 * A text whose windows hold no text token at all (one `[CLS] [SEP]` window) gets equal weights
 * under `length-weighted`, i.e. its window's softmax, rather than no distribution. Pure; throws
 * RangeError on no windows or mismatched lengths.
 */
export function aggregateWindows(
  logits: readonly ArrayLike<number>[],
  textTokens: ArrayLike<number>,
  how: WindowAggregation = DEFAULT_WINDOW_AGGREGATION,
): Float64Array {
  if (logits.length === 0) throw new RangeError('no windows to aggregate');
  if (textTokens.length !== logits.length) throw new RangeError(`${logits.length} windows but ${textTokens.length} token counts`);
  const labels = logits[0].length;
  let weights = Array.from(logits, (_, w) => (how === 'length-weighted' ? textTokens[w] : 1));
  if (weights.every((k) => k === 0)) weights = weights.map(() => 1);
  const total = new Float64Array(labels);
  let weight = 0;
  logits.forEach((z, w) => {
    if (z.length !== labels) throw new RangeError(`window ${w} has ${z.length} logits, window 0 has ${labels}`);
    const v = how === 'mean-logits' ? z : softmax(z);
    // Sum then divide, in this order, as numpy does in aggregate_windows.
    for (let k = 0; k < labels; k++) total[k] += weights[w] * v[k];
    weight += weights[w];
  });
  for (let k = 0; k < labels; k++) total[k] /= weight;
  return how === 'mean-logits' ? softmax(total) : total;
}
