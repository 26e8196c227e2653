import { toFeedbackEvent, toTextEvent } from './records';

const limits = { maxTextBytes: 100, maxQuestions: 2, maxQuestionChars: 20 };

describe('toTextEvent', () => {
  it('accepts a valid record, keeping its id and filling defaults', () => {
    const result = toTextEvent({ id: 'a1', text: 'Hello Lisbon', tasks: 'sentiment,entities' }, 3, limits, { key: 'k' }, 42);
    expect(result).toEqual({
      ok: true,
      line: 3,
      event: {
        id: 'a1',
        text: 'Hello Lisbon',
        tasks: ['sentiment', 'entities'],
        questions: [],
        key: 'k',
        tenant: null,
        metadata: {},
        createdAt: 42,
      },
    });
  });

  it('generates an id and leaves tasks null (all) when absent', () => {
    const result = toTextEvent({ text: 'x' }, 1, limits);
    expect(result.ok && result.event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.ok && result.event.tasks).toBeNull();
  });

  it.each([
    [{ txt: 'no text' }, 'TEXT_MISSING', /missing "text"/],
    [{ text: '' }, 'TEXT_EMPTY', /empty/],
    [{ text: ' \t\n' }, 'TEXT_WHITESPACE', /whitespace/],
    [{ text: 'bad \ud800 surrogate' }, 'TEXT_INVALID_UTF8', /lone surrogates/],
    [{ text: 'bell \u0007' }, 'TEXT_CONTROL_CHARACTERS', /U\+0007/],
    [{ text: 'é'.repeat(51) }, 'TEXT_TOO_LARGE', /102 bytes; the limit is 100/],
    [
      { text: 'ok', tasks: ['sentiment', 'summarize'] },
      'TASK_UNKNOWN',
      /unknown task "summarize"; valid: sentiment, entities, answers, categories/,
    ],
    [{ text: 'ok', questions: ['a', 'b', 'c'] }, 'QUESTIONS_TOO_MANY', /3 questions; the limit is 2/],
    [{ text: 'ok', questions: ['  '] }, 'QUESTION_EMPTY', /empty/],
    [{ text: 'ok', questions: ['x'.repeat(21)] }, 'QUESTION_TOO_LONG', /21 characters/],
    [{ id: 'x'.repeat(257), text: 'ok' }, 'ID_TOO_LONG', /257 characters/],
    [{ text: 'ok', tasks: ['answers'] }, 'ANSWERS_WITHOUT_QUESTIONS', /no questions/],
    [{ text: 42 }, 'INVALID_FIELD', /must be a string/],
    [['not', 'an', 'object'], 'INVALID_FIELD', /JSON object/],
  ])('rejects %j with %s', (raw, code, reason) => {
    const result = toTextEvent(raw, 7, limits);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.line).toBe(7);
      expect(result.code).toBe(code);
      expect(result.reason).toMatch(reason);
    }
  });
});

describe('toFeedbackEvent', () => {
  it('accepts a sentiment label and an entity span inside the text', () => {
    expect(toFeedbackEvent({ text: 'great', task: 'sentiment', label: 'positive' }, 1, limits).ok).toBe(true);
    const entities = toFeedbackEvent(
      { text: 'Ada in London', task: 'entities', entities: [{ label: 'PER', start: 0, end: 3 }] },
      1,
      limits,
    );
    expect(entities.ok && entities.event.entities).toEqual([{ label: 'PER', start: 0, end: 3 }]);
  });

  it('rejects labels that do not fit the task', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ text: 'x', task: 'sentiment' }, /needs a "label"/],
      [{ text: 'x', task: 'categories', label: 'a' }, /needs a "head"/],
      [{ text: 'abc', task: 'entities', entities: [{ label: 'PER', start: 2, end: 9 }] }, /outside the text/],
      [{ text: 'abc', task: 'answers' }, /needs an "answer"/],
      [{ text: 'abc', task: 'translate' }, /unknown task "translate"/],
    ];
    for (const [raw, reason] of cases) {
      const result = toFeedbackEvent(raw, 2, limits);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(reason);
    }
  });
});
