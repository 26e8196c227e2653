/**
 * What one event may cost the encoder. Every question re-windows the whole text, so a long text with
 * many questions can cost hundreds of thousands of tokens — minutes of encoder time on a small
 * machine. Past `maxEventTokens` (estimated) the event is dead-lettered as TOKEN_BUDGET_EXCEEDED;
 * below it, an event costlier than a whole micro-batch runs in a lane of its own (see Dispatcher), so
 * it never holds the slots the other partitions' batches use. Pure.
 */
export type CostCheck = { ok: true; heavy: boolean } | { ok: false; code: 'TOKEN_BUDGET_EXCEEDED'; reason: string };

export function checkEventCost(tokens: number, questions: number, maxEventTokens: number, maxBatchTokens: number): CostCheck {
  if (tokens > maxEventTokens) {
    return {
      ok: false,
      code: 'TOKEN_BUDGET_EXCEEDED',
      reason: `the event would cost about ${tokens} encoder tokens (its text once per task pass${questions > 0 ? ` and once more for each of its ${questions} questions` : ''}); the limit is processor.maxEventTokens = ${maxEventTokens}. Send a shorter text or fewer questions`,
    };
  }
  return { ok: true, heavy: tokens > maxBatchTokens };
}
