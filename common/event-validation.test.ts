import { checkTextEvent as checkEvent, DEFAULT_TEXT_EVENT_LIMITS as DEFAULT_EVENT_LIMITS } from './event-validation';
import type { TextEvent } from '../schemas/generated/text';

const now = 1_800_000_000_000;
const good: TextEvent = {
  id: 'e1',
  text: 'Ada Lovelace lived in London.',
  tasks: null,
  questions: ['Where?'],
  key: null,
  tenant: null,
  metadata: {},
  createdAt: now - 5,
};
const all = ['sentiment', 'entities', 'answers', 'categories'] as const;

describe('checkEvent', () => {
  it('accepts a good event, defaulting its tasks', () => {
    expect(checkEvent(good, all, DEFAULT_EVENT_LIMITS, now)).toEqual({ ok: true, tasks: [...all] });
    expect(checkEvent({ ...good, tasks: ['sentiment', 'sentiment'] }, all, DEFAULT_EVENT_LIMITS, now)).toEqual({
      ok: true,
      tasks: ['sentiment'],
    });
    expect(checkEvent({ ...good, text: 'tabs\tand\nnewlines\r\n and 東京 🚀 é' }, all, DEFAULT_EVENT_LIMITS, now).ok).toBe(true);
  });

  it.each<[string, Partial<TextEvent>, RegExp]>([
    ['ID_EMPTY', { id: ' ' }, /id is empty/],
    ['ID_TOO_LONG', { id: 'x'.repeat(257) }, /257 characters/],
    ['TEXT_EMPTY', { text: '' }, /empty/],
    ['TEXT_WHITESPACE', { text: ' \n\t ' }, /whitespace/],
    ['TEXT_TOO_LARGE', { text: 'é'.repeat(500_001) }, /1000002 bytes/],
    ['TEXT_TOO_LONG_FOR_MODEL', { text: 'a'.repeat(100_001) }, /model's limit/],
    ['TEXT_INVALID_UTF8', { text: 'bad \ufffd byte' }, /UTF-8/],
    ['TEXT_INVALID_UTF8', { text: 'lone \ud800 surrogate' }, /UTF-8/],
    ['TEXT_CONTROL_CHARACTERS', { text: 'bell\u0007here' }, /U\+0007 at index 4/],
    ['TASKS_EMPTY', { tasks: [] }, /empty list/],
    ['TASK_UNKNOWN', { tasks: ['sentiment', 'summarize'] }, /"summarize"/],
    ['QUESTIONS_TOO_MANY', { questions: Array.from({ length: 17 }, () => 'q?') }, /17 questions/],
    ['QUESTION_EMPTY', { questions: ['ok?', ' '] }, /question 1 is empty/],
    ['QUESTION_TOO_LONG', { questions: ['q'.repeat(1001)] }, /1001 characters/],
    ['QUESTION_INVALID_CHARACTERS', { questions: ['why\u0000?'] }, /question 0/],
    ['ANSWERS_WITHOUT_QUESTIONS', { tasks: ['answers'], questions: [] }, /no questions/],
    ['METADATA_TOO_LARGE', { metadata: { big: 'x'.repeat(20_000) } }, /metadata is/],
    ['CREATED_AT_INVALID', { createdAt: 0 }, /createdAt 0/],
    ['CREATED_AT_INVALID', { createdAt: now + 2 * 86_400_000 }, /tomorrow/],
  ])('rejects %s', (code, change, reason) => {
    const result = checkEvent({ ...good, ...change }, all, DEFAULT_EVENT_LIMITS, now);
    expect(result).toEqual({ ok: false, code, reason: expect.stringMatching(reason) });
  });
});

describe('one table of dead-letter codes', () => {
  it('holds every text event rule under the same name', () => {
    const { textEventCodes, deadLetterCodes } = jest.requireActual('./event-validation') as typeof import('./event-validation');
    for (const [name, code] of Object.entries(textEventCodes)) expect(deadLetterCodes).toHaveProperty(name, code);
  });
});
