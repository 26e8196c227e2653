import { argmax } from './softmax';

/** How a word's label comes from its sub-tokens (manifest `aggregation`). */
export type Aggregation = 'first' | 'average' | 'max';

/** A word's label index and probability, with the range of its tokens (`lastToken` inclusive). */
export interface WordLabel {
  word: number;
  firstToken: number;
  lastToken: number;
  labelIndex: number;
  score: number;
}

/**
 * Word-level labels from per-token probability vectors.
 *
 * `probs` is `[tokens × numLabels]`, row-major; `wordIds[t]` is the word of token t (-1 for tokens
 * outside any word). A word's tokens are contiguous (the tokenizer's pre-tokenisation guarantees it).
 * - `first`: the first sub-token's argmax label and its probability;
 * - `average`: mean of the sub-tokens' vectors, then argmax (score = that mean);
 * - `max`: element-wise max of the vectors, then argmax (score = that max).
 * Pure; never blocks.
 */
export function aggregateWords(
  probs: ArrayLike<number>,
  numLabels: number,
  wordIds: ArrayLike<number>,
  aggregation: Aggregation,
): WordLabel[] {
  const words: WordLabel[] = [];
  let t = 0;
  while (t < wordIds.length) {
    const word = wordIds[t];
    if (word < 0) {
      t++;
      continue;
    }
    let last = t;
    while (last + 1 < wordIds.length && wordIds[last + 1] === word) last++;
    const combined = new Float64Array(numLabels);
    if (aggregation === 'first') {
      for (let k = 0; k < numLabels; k++) combined[k] = probs[t * numLabels + k];
    } else if (aggregation === 'average') {
      for (let u = t; u <= last; u++) for (let k = 0; k < numLabels; k++) combined[k] += probs[u * numLabels + k];
      for (let k = 0; k < numLabels; k++) combined[k] /= last - t + 1;
    } else {
      combined.fill(-Infinity);
      for (let u = t; u <= last; u++) {
        for (let k = 0; k < numLabels; k++) combined[k] = Math.max(combined[k], probs[u * numLabels + k]);
      }
    }
    const labelIndex = argmax(combined);
    words.push({ word, firstToken: t, lastToken: last, labelIndex, score: combined[labelIndex] });
    t = last + 1;
  }
  return words;
}
