import { bestAcrossWindows, bestSpanInWindow } from './qa';

// [CLS] q [SEP] c c c [SEP]
const ctx = [0, 0, 0, 1, 1, 1, 0];

describe('bestSpanInWindow', () => {
  it('masks question, special and padding tokens even when their logits are highest', () => {
    const start = [50, 50, 50, 5, 0, 0, 50];
    const end = [50, 50, 50, 0, 5, 0, 50];
    const best = bestSpanInWindow(start, end, ctx, 30)!;
    expect([best.start, best.end]).toEqual([3, 4]);
    // softmax over context only: p_start(3) = e^5/(e^5+2), p_end(4) = e^5/(e^5+2)
    const p = Math.exp(5) / (Math.exp(5) + 2);
    expect(best.score).toBeCloseTo(p * p, 12);
  });
  it('never returns end before start', () => {
    const start = [0, 0, 0, 0, 0, 9, 0];
    const end = [0, 0, 0, 9, 0, 0, 0];
    const best = bestSpanInWindow(start, end, ctx, 30)!;
    expect(best.start).toBeLessThanOrEqual(best.end);
  });
  it('respects max answer tokens', () => {
    const start = [0, 0, 0, 9, 0, 0, 0];
    const end = [0, 0, 0, 0, 0, 9, 0];
    const best = bestSpanInWindow(start, end, ctx, 2)!;
    expect(best.end - best.start + 1).toBeLessThanOrEqual(2);
  });
  it('returns null without context', () => {
    expect(bestSpanInWindow([1, 2], [1, 2], [0, 0], 30)).toBeNull();
  });
});

describe('bestAcrossWindows', () => {
  it('picks the highest score, the earlier window on ties', () => {
    const a = { w: 0, score: 0.5 };
    const b = { w: 1, score: 0.5 };
    expect(bestAcrossWindows([null, a, b])).toBe(a);
    expect(bestAcrossWindows([a, { w: 2, score: 0.6 }])!.w).toBe(2);
    expect(bestAcrossWindows([null])).toBeNull();
  });
});
