import { expectedTasks, validateTexts } from './submit';

const limits = { maxTextBytes: 100, maxQuestions: 2, maxQuestionChars: 50, compression: 'none' as const, batchSize: 10, deliveryTimeoutMs: 1000 };

describe('validateTexts', () => {
  it('accepts valid records with the same rules as trident produce', () => {
    const r = validateTexts([{ id: 'a', text: 'hello', tasks: ['sentiment'] }, { text: 'world', questions: ['why?'], tasks: 'answers,entities' }], limits, 1000);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events[0]).toEqual({ id: 'a', text: 'hello', tasks: ['sentiment'], questions: [], key: null, tenant: null, metadata: {}, createdAt: 1000 });
    expect(r.events[1]).toMatchObject({ tasks: ['answers', 'entities'], questions: ['why?'] });
    expect(r.events[1]!.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses all of a request when any record is invalid, naming each by index', () => {
    const r = validateTexts([{ text: 'fine' }, { text: '' }, { text: 'x'.repeat(101) }, { text: 'q', tasks: ['answers'] }, 'nope', { id: 'd', text: 'a' }, { id: 'd', text: 'b' }], limits);
    expect(r).toEqual({
      ok: false,
      rejections: [
        { index: 1, code: 'TEXT_EMPTY', reason: '"text" is empty' },
        { index: 2, code: 'TEXT_TOO_LARGE', reason: expect.stringContaining('over the maximum of 100') },
        { index: 3, code: 'ANSWERS_WITHOUT_QUESTIONS', reason: expect.any(String) },
        { index: 4, code: 'INVALID_FIELD', reason: expect.any(String) },
        { index: 6, code: 'DUPLICATE_ID', reason: 'id "d" appears twice in this request' },
      ],
    });
  });
});

describe('expectedTasks', () => {
  const event = (tasks: string[] | null, questions: string[] = []) => ({ id: 'a', text: 't', tasks, questions, key: null, tenant: null, metadata: {}, createdAt: 0 });
  it('uses the event’s tasks, else the defaults; answers only with questions', () => {
    expect(expectedTasks(event(['entities', 'entities']), ['sentiment'])).toEqual(['entities']);
    expect(expectedTasks(event(null), ['sentiment', 'answers'])).toEqual(['sentiment']);
    expect(expectedTasks(event(null, ['q']), ['sentiment', 'answers'])).toEqual(['sentiment', 'answers']);
  });
});
