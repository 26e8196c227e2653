import { configSchema } from '../common/config';
import { deadLetterCodes, textEventLimits, type DeadLetterCode } from '../common/event-validation';
import { checkEvent } from '../consumers/processor/validate-event';
import type { TextEvent } from '../schemas/generated/text';
import { expectedTasks, RecentIds, validateTexts } from './submit';

const limits = {
  maxTextBytes: 100,
  maxQuestions: 2,
  maxQuestionChars: 50,
  compression: 'none' as const,
  batchSize: 10,
  deliveryTimeoutMs: 1000,
};

describe('validateTexts', () => {
  it('accepts valid records with the same rules as trident produce', () => {
    const r = validateTexts(
      [
        { id: 'a', text: 'hello', tasks: ['sentiment'] },
        { text: 'world', questions: ['why?'], tasks: 'answers,entities' },
      ],
      limits,
      'acme',
      undefined,
      1000,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events[0]).toEqual({
      id: 'a',
      text: 'hello',
      tasks: ['sentiment'],
      questions: [],
      key: null,
      tenant: 'acme',
      metadata: {},
      createdAt: 1000,
    });
    expect(r.events[1]).toMatchObject({ tasks: ['answers', 'entities'], questions: ['why?'] });
    expect(r.events[1]!.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses all of a request when any record is invalid, naming each by index', () => {
    const r = validateTexts(
      [
        { text: 'fine' },
        { text: '' },
        { text: 'x'.repeat(101) },
        { text: 'q', tasks: ['answers'] },
        'nope',
        { id: 'd', text: 'a' },
        { id: 'd', text: 'b' },
      ],
      limits,
      'acme',
    );
    expect(r).toEqual({
      ok: false,
      rejections: [
        { index: 1, code: 'TEXT_EMPTY', reason: 'text is empty' },
        { index: 2, code: 'TEXT_TOO_LARGE', reason: expect.stringContaining('the limit is 100') },
        { index: 3, code: 'ANSWERS_WITHOUT_QUESTIONS', reason: expect.any(String) },
        { index: 4, code: 'INVALID_FIELD', reason: expect.any(String) },
        { index: 6, code: 'DUPLICATE_ID', reason: 'id "d" appears twice in this request' },
      ],
    });
  });

  it("sets the token's tenant on every event and refuses a record naming another tenant", () => {
    const r = validateTexts(
      [
        { text: 'a', tenant: 'acme' },
        { text: 'b', tenant: 'globex' },
      ],
      limits,
      'acme',
    );
    expect(r).toEqual({ ok: false, rejections: [{ index: 1, code: 'TENANT_MISMATCH', reason: expect.stringContaining('tenant "acme"') }] });
    const ok = validateTexts([{ text: 'a', tenant: 'acme' }, { text: 'b' }], limits, 'acme');
    expect(ok.ok && ok.events.map((e) => e.tenant)).toEqual(['acme', 'acme']);
  });
});

describe('expectedTasks', () => {
  const event = (tasks: string[] | null, questions: string[] = []) => ({
    id: 'a',
    text: 't',
    tasks,
    questions,
    key: null,
    tenant: null,
    metadata: {},
    createdAt: 0,
  });
  it('uses the event’s tasks, else the defaults; answers only with questions', () => {
    expect(expectedTasks(event(['entities', 'entities']), ['sentiment'])).toEqual(['entities']);
    expect(expectedTasks(event(null), ['sentiment', 'answers'])).toEqual(['sentiment']);
    expect(expectedTasks(event(null, ['q']), ['sentiment', 'answers'])).toEqual(['sentiment', 'answers']);
  });
});

describe('the gateway refuses what the processor would dead-letter, with the same code', () => {
  const config = configSchema.parse({});
  // The processor's limits as `trident serve` builds them (producer.* and the model's text limit).
  const processorLimits = textEventLimits(config.producer);
  const good: TextEvent = {
    id: 'e1',
    text: 'Ada Lovelace lived in London.',
    tasks: null,
    questions: [],
    key: null,
    tenant: 'acme',
    metadata: {},
    createdAt: Date.now(),
  };
  const asRecord = (e: TextEvent) => ({
    id: e.id,
    text: e.text,
    tasks: e.tasks ?? undefined,
    questions: e.questions,
    metadata: e.metadata,
  });

  /** Every code a submission can cause, with an event that causes it. */
  const reachable: Partial<Record<DeadLetterCode, Partial<TextEvent>>> = {
    ID_EMPTY: { id: ' ' },
    ID_TOO_LONG: { id: 'x'.repeat(300) },
    TEXT_EMPTY: { text: '' },
    TEXT_WHITESPACE: { text: ' \n\t ' },
    TEXT_TOO_LARGE: { text: 'é'.repeat(500_001) },
    TEXT_TOO_LONG_FOR_MODEL: { text: 'a'.repeat(100_001) },
    TEXT_INVALID_UTF8: { text: 'bad \ufffd byte' },
    TEXT_CONTROL_CHARACTERS: { text: 'bell\u0007here' },
    TASKS_EMPTY: { tasks: [] },
    TASK_UNKNOWN: { tasks: ['sentiment', 'summarize'] },
    QUESTIONS_TOO_MANY: { questions: Array.from({ length: 17 }, () => 'q?') },
    QUESTION_EMPTY: { questions: [' '] },
    QUESTION_TOO_LONG: { questions: ['q'.repeat(1001)] },
    QUESTION_INVALID_CHARACTERS: { questions: ['why\u0000?'] },
    ANSWERS_WITHOUT_QUESTIONS: { tasks: ['answers'] },
    METADATA_TOO_LARGE: { metadata: { big: 'x'.repeat(20_000) } },
  };
  /** Codes no submission can cause, and why. DUPLICATE_ID is checked on its own below. */
  const unreachable: Partial<Record<DeadLetterCode, string>> = {
    DUPLICATE_ID: 'two submissions: tested below',
    CREATED_AT_INVALID: 'the gateway stamps createdAt itself',
    NULL_VALUE: 'the gateway always sends an encoded event',
    NOT_AVRO: 'the gateway encodes with the registered schema',
    SCHEMA_UNKNOWN: 'the gateway encodes with the registered schema',
    SCHEMA_WRONG_TOPIC: 'the gateway encodes with the text topic’s schema',
    AVRO_DECODE_FAILED: 'the gateway encodes with the registered schema',
    HEADERS_TOO_LARGE: 'the gateway sends no headers',
    INFERENCE_FAILED: 'a model failure, not a property of the input',
    MODEL_INFERENCE_FAILED: 'a model failure, not a property of the input',
    MODEL_TASK_UNAVAILABLE: 'depends on the deployed artifact’s heads, which the gateway does not load',
    ...Object.fromEntries(
      [
        'HEAD_MISSING',
        'HEAD_UNKNOWN',
        'LABEL_MISSING',
        'LABEL_UNKNOWN',
        'ENTITY_SPAN_OUT_OF_RANGE',
        'ENTITY_SPAN_OVERLAP',
        'ENTITY_SPAN_NOT_ON_TOKEN_BOUNDARY',
        'ANSWER_SPAN_OUT_OF_RANGE',
        'ANSWER_SPAN_EMPTY',
      ].map((code) => [code, 'the learner’s feedback rules; a text submission carries no labels']),
    ),
  };

  it('accounts for every dead-letter code', () => {
    const listed = [...Object.keys(reachable), ...Object.keys(unreachable)].sort();
    expect(listed).toEqual(Object.values(deadLetterCodes).sort());
  });

  it.each(Object.entries(reachable))('%s', (code, change) => {
    const event = { ...good, ...change };
    expect(checkEvent(event, config.processor.defaultTasks, processorLimits)).toMatchObject({ ok: false, code });
    const atGateway = validateTexts([asRecord(event)], config.producer, 'acme');
    expect(atGateway).toMatchObject({ ok: false, rejections: [{ index: 0, code }] });
  });

  it('DUPLICATE_ID: a repeated id within a request, or of a recent submission of the same tenant', () => {
    const recent = new RecentIds(60_000, 10, () => 0);
    expect(
      validateTexts(
        [
          { id: 'a', text: 'x' },
          { id: 'a', text: 'y' },
        ],
        config.producer,
        'acme',
        recent,
      ),
    ).toMatchObject({ ok: false, rejections: [{ index: 1, code: 'DUPLICATE_ID' }] });
    recent.add('acme', ['a']);
    expect(validateTexts([{ id: 'a', text: 'x' }], config.producer, 'acme', recent)).toMatchObject({
      ok: false,
      rejections: [{ index: 0, code: 'DUPLICATE_ID' }],
    });
    expect(validateTexts([{ id: 'a', text: 'x' }], config.producer, 'globex', recent).ok).toBe(true);
  });
});

describe('RecentIds', () => {
  it('forgets ids after the window and beyond its size, oldest first', () => {
    let now = 0;
    const recent = new RecentIds(1000, 2, () => now);
    recent.add('t', ['a', 'b']);
    expect(recent.has('t', 'a')).toBe(true);
    recent.add('t', ['c']);
    expect(recent.has('t', 'a')).toBe(false);
    expect(recent.has('u', 'b')).toBe(false);
    now = 1000;
    expect(recent.has('t', 'b')).toBe(false);
    expect(recent.has('t', 'c')).toBe(false);
  });
});
