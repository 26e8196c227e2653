import { softmax } from './softmax';

/** The best answer span of one window: token indices into that window (inclusive) and p_start·p_end. */
export interface SpanChoice {
  start: number;
  end: number;
  score: number;
}

/**
 * Best answer span in one window (model/README.md "Answers"). Logits outside the context
 * (`isContext[t]` false: [CLS], question, [SEP], padding) are masked; start and end probabilities are
 * softmaxes over the context tokens separately; a candidate has start ≤ end and at most
 * `maxAnswerTokens` tokens; its score is p_start · p_end. Ties go to the smallest start, then the
 * smallest end. Returns null when the window has no context token. Pure; never blocks.
 */
export function bestSpanInWindow(
  startLogits: ArrayLike<number>,
  endLogits: ArrayLike<number>,
  isContext: ArrayLike<boolean | number>,
  maxAnswerTokens: number,
): SpanChoice | null {
  const n = isContext.length;
  const masked = (logits: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(n);
    for (let t = 0; t < n; t++) out[t] = isContext[t] ? logits[t] : -Infinity;
    return out;
  };
  const pStart = softmax(masked(startLogits));
  const pEnd = softmax(masked(endLogits));
  let best: SpanChoice | null = null;
  for (let s = 0; s < n; s++) {
    if (!isContext[s]) continue;
    for (let e = s; e < n && e < s + maxAnswerTokens; e++) {
      if (!isContext[e]) continue;
      const score = pStart[s] * pEnd[e];
      if (best === null || score > best.score) best = { start: s, end: e, score };
    }
  }
  return best;
}

/** The best of several windows' spans; ties go to the earlier window. Pure. */
export function bestAcrossWindows<T extends { score: number }>(candidates: ReadonlyArray<T | null>): T | null {
  let best: T | null = null;
  for (const c of candidates) if (c !== null && (best === null || c.score > best.score)) best = c;
  return best;
}
