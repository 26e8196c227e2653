import { expectedTasks, validateTexts } from './submit';

const limits = { maxTextBytes: 100, maxQuestions: 2, maxQuestionChars: 50, compression: 'none' as const, batchSize: 10 };

describe('validateTexts', () => {
  it('accepts valid records with the same rules as trident produce', () => {
    const r = validateTexts([{ id: 'a', text: 'hello', tasks: ['sentiment'] }, { text: 'world', questions: ['why?'], tasks: 'answers,entities' }], limits, 'acme', 1000);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events[0]).toEqual({ id: 'a', text: 'hello', tasks: ['sentiment'], questions: [], key: null, tenant: 'acme', metadata: {}, createdAt: 1000 });
    expect(r.events[1]).toMatchObject({ tasks: ['answers', 'entities'], questions: ['why?'] });
    expect(r.events[1]!.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses all of a request when any record is invalid, naming each by index', () => {
    const r = validateTexts([{ text: 'fine' }, { text: '' }, { text: 'x'.repeat(101) }, { text: 'q', tasks: ['answers'] }, 'nope', { id: 'd', text: 'a' }, { id: 'd', text: 'b' }], limits, 'acme');
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

  it("sets the token's tenant on every event and refuses a record naming another tenant", () => {
    const r = validateTexts([{ text: 'a', tenant: 'acme' }, { text: 'b', tenant: 'globex' }], limits, 'acme');
    expect(r).toEqual({ ok: false, rejections: [{ index: 1, code: 'TENANT_MISMATCH', reason: expect.stringContaining('tenant "acme"') }] });
    const ok = validateTexts([{ text: 'a', tenant: 'acme' }, { text: 'b' }], limits, 'acme');
    expect(ok.ok && ok.events.map((e) => e.tenant)).toEqual(['acme', 'acme']);
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
