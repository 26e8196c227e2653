import { estimateTokens } from './batcher';
import { checkEventCost } from './event-cost';

describe('checkEventCost', () => {
  const longText = 'word '.repeat(20_000); // ~25k estimated tokens

  it('dead-letters a long text with many questions: each question re-windows the whole text', () => {
    const questions = Array.from({ length: 16 }, (_, i) => `question ${i}?`);
    const tokens = estimateTokens(longText, questions, true);
    const check = checkEventCost(tokens, questions.length, 100_000, 8192);
    expect(check).toMatchObject({ ok: false, code: 'TOKEN_BUDGET_EXCEEDED' });
    expect(!check.ok && check.reason).toContain('16 questions');
  });

  it('lets the same text through without questions, marked heavy (a lane of its own)', () => {
    expect(checkEventCost(estimateTokens(longText, [], true), 0, 100_000, 8192)).toEqual({ ok: true, heavy: true });
    expect(checkEventCost(estimateTokens('short text', ['why?'], true), 1, 100_000, 8192)).toEqual({ ok: true, heavy: false });
  });
});
