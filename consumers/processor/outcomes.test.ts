import type { KafkaMessage } from 'kafkajs';
import { InvalidMessageError, TridentError } from '../../common/errors';
import type { TaskName } from '../../common/tasks';
import type { TextEvent } from '../../schemas/generated/text';
import { DEFAULT_EVENT_LIMITS } from './validate-event';
import {
  batchIdKey,
  encodeOutcomes,
  inferenceFailed,
  prepareMessage,
  tallyOutcomes,
  type EncodeContext,
  type Outcome,
  type PrepareContext,
} from './outcomes';

const event = (over: Partial<TextEvent> = {}): TextEvent => ({
  id: 'e1',
  text: 'Ada Lovelace wrote in London.',
  tasks: null,
  questions: [],
  key: null,
  tenant: null,
  metadata: {},
  createdAt: 1_000,
  ...over,
});
const message = (value: unknown, offset = '7', headers: KafkaMessage['headers'] = {}): KafkaMessage =>
  ({
    key: Buffer.from('k'),
    value: value === null ? null : Buffer.from(JSON.stringify(value)),
    headers,
    offset,
    timestamp: '0',
    attributes: 0,
  }) as KafkaMessage;
const origin = { topic: 'in', partition: 2, offset: '7' };

// "Decoding" is JSON here; a value that is not JSON is what the codec reports as NOT_AVRO.
const context: PrepareContext = {
  decode: async (value) => {
    const text = value?.toString() ?? '';
    if (text === '"registry down"') throw new TridentError('REGISTRY_UNAVAILABLE', 'registry down', { retriable: true });
    try {
      return JSON.parse(text) as TextEvent;
    } catch {
      throw new InvalidMessageError('NOT_AVRO', 'not Avro', origin);
    }
  },
  defaultTasks: ['sentiment', 'entities'],
  limits: DEFAULT_EVENT_LIMITS,
  maxHeaderBytes: 32,
};

describe('prepareMessage', () => {
  it.each<[string, KafkaMessage, string[], object]>([
    [
      'a valid event with the default tasks',
      message(event()),
      [],
      { kind: 'valid', tasks: ['sentiment', 'entities'], event: { id: 'e1' } },
    ],
    [
      'its own tasks, deduplicated',
      message(event({ tasks: ['answers', 'answers'], questions: ['Where?'] })),
      [],
      { kind: 'valid', tasks: ['answers'] },
    ],
    [
      'headers over the limit',
      message(event(), '7', { big: 'x'.repeat(64) }),
      [],
      { kind: 'dead', code: 'HEADERS_TOO_LARGE', stage: 'decode', eventId: null },
    ],
    [
      'bytes that do not decode',
      Object.assign(message(null), { value: Buffer.from([0, 1]) }),
      [],
      { kind: 'dead', code: 'NOT_AVRO', stage: 'decode' },
    ],
    [
      'an unknown task',
      message(event({ tasks: ['summarize'] })),
      [],
      { kind: 'dead', code: 'TASK_UNKNOWN', stage: 'validate', eventId: 'e1' },
    ],
    ['an empty text', message(event({ text: '' })), [], { kind: 'dead', code: 'TEXT_EMPTY', stage: 'validate' }],
    [
      'an id seen earlier in the batch',
      message(event()),
      [batchIdKey(null, 'e1')],
      { kind: 'dead', code: 'DUPLICATE_ID', stage: 'validate', eventId: 'e1' },
    ],
    [
      'the same id seen for another tenant',
      message(event({ tenant: 'acme' })),
      [batchIdKey(null, 'e1')],
      { kind: 'valid', event: { id: 'e1' } },
    ],
  ])('%s', async (_name, input, seen, expected) => {
    expect(await prepareMessage(input, origin, new Set(seen), context)).toMatchObject(expected);
  });

  it('remembers each valid id for the rest of the batch', async () => {
    const seen = new Set<string>();
    await prepareMessage(message(event()), origin, seen, context);
    expect(seen).toEqual(new Set([batchIdKey(null, 'e1')]));
  });

  it('estimates tokens for the text pass only when a task needs it', async () => {
    const both = await prepareMessage(message(event({ tasks: ['sentiment', 'answers'], questions: ['Who?'] })), origin, new Set(), context);
    const answersOnly = await prepareMessage(message(event({ tasks: ['answers'], questions: ['Who?'] })), origin, new Set(), context);
    expect(both.kind === 'valid' && answersOnly.kind === 'valid' && both.tokens > answersOnly.tokens).toBe(true);
  });

  it('rethrows what is not a bad message (the batch is retried)', async () => {
    await expect(prepareMessage(message('registry down'), origin, new Set(), context)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
    });
  });
});

const encodeContext: EncodeContext = {
  encode: async (kind, value) =>
    Buffer.from(
      JSON.stringify({ kind, value }, (_k, v: unknown) =>
        typeof v === 'object' && v !== null && (v as { type?: string }).type === 'Buffer' ? '<bytes>' : v,
      ),
    ),
  topics: { dlq: 'dlq', sentiment: 'out.sentiment', entities: 'out.entities', answers: 'out.answers', categories: 'out.categories' },
  includeText: true,
  maxResultBytes: 400,
};
const sentiment = { label: 'positive', scores: { positive: 0.9, negative: 0.1 } };
const results = (over: Partial<TextEvent> = {}, tasks: TaskName[] = ['sentiment']): Outcome => ({
  kind: 'results',
  event: event(over),
  tasks,
  output: { id: over.id ?? 'e1', sentiment, entities: [] },
  model: { name: 'm', version: '1' },
});
const decoded = (m: { value: Buffer | string | null }) => JSON.parse(String(m.value)) as { kind: string; value: Record<string, unknown> };

describe('encodeOutcomes', () => {
  it.each<[string, Outcome[], Array<{ topic: string; count: number }>]>([
    ['nothing in, nothing out', [], []],
    [
      'one result per task asked for',
      [results({}, ['sentiment', 'entities'])],
      [
        { topic: 'out.sentiment', count: 1 },
        { topic: 'out.entities', count: 1 },
      ],
    ],
    ['a dead letter goes to the DLQ', [inferenceFailed(event(), 'INFERENCE_FAILED', 'boom')], [{ topic: 'dlq', count: 1 }]],
    [
      'both, grouped by topic',
      [results(), inferenceFailed(event({ id: 'e2' }), 'INFERENCE_FAILED', 'boom'), results({ id: 'e3' })],
      [
        { topic: 'out.sentiment', count: 2 },
        { topic: 'dlq', count: 1 },
      ],
    ],
  ])('%s', async (_name, outcomes, expected) => {
    const messages = outcomes.map((_, i) => message({}, String(10 + i)));
    const out = await encodeOutcomes(messages, outcomes, { topic: 'in', partition: 2 }, encodeContext, 5_000);
    expect(out.map((t) => ({ topic: t.topic, count: t.messages.length }))).toEqual(expected);
  });

  it('keys results by the event key, else its id, with a trace-id header', async () => {
    const [keyed] = await encodeOutcomes(
      [message({})],
      [results({ key: 'customer-7' })],
      { topic: 'in', partition: 2 },
      encodeContext,
      5_000,
    );
    const [unkeyed] = await encodeOutcomes([message({})], [results()], { topic: 'in', partition: 2 }, encodeContext, 5_000);
    expect(keyed!.messages[0]).toMatchObject({ key: 'customer-7', headers: { 'trace-id': 'e1' } });
    expect(unkeyed!.messages[0]!.key).toBe('e1');
    expect(decoded(unkeyed!.messages[0]!).value).toMatchObject({
      id: 'e1',
      modelName: 'm',
      modelVersion: '1',
      processedAt: 5_000,
      label: 'positive',
    });
  });

  it('keeps the original key and where the dead letter came from', async () => {
    const [dlq] = await encodeOutcomes(
      [message({}, '42')],
      [inferenceFailed(event(), 'INFERENCE_FAILED', 'boom')],
      { topic: 'in', partition: 2 },
      encodeContext,
      5_000,
    );
    expect(dlq!.messages[0]!.key).toEqual(Buffer.from('k'));
    expect(decoded(dlq!.messages[0]!).value).toMatchObject({
      sourceTopic: 'in',
      sourcePartition: 2,
      sourceOffset: '42',
      eventId: 'e1',
      errorCode: 'INFERENCE_FAILED',
      stage: 'infer',
      failedAt: 5_000,
    });
  });

  it('drops the copy of the input text from a result that would be too large', async () => {
    const [short] = await encodeOutcomes(
      [message({})],
      [results({ text: 'short' }, ['entities'])],
      { topic: 'in', partition: 2 },
      encodeContext,
      0,
    );
    const [long] = await encodeOutcomes(
      [message({})],
      [results({ text: 'x'.repeat(500) }, ['entities'])],
      { topic: 'in', partition: 2 },
      encodeContext,
      0,
    );
    expect(decoded(short!.messages[0]!).value.text).toBe('short');
    expect(decoded(long!.messages[0]!).value.text).toBeNull();
  });
});

describe('tallyOutcomes', () => {
  it.each<[string, Outcome[], object]>([
    ['nothing', [], { deadLetters: [], results: [], endToEndSeconds: [], guard: [] }],
    [
      'a processed event: its tasks and its age',
      [results({ createdAt: 1_000 }, ['sentiment', 'entities'])],
      { deadLetters: [], results: ['sentiment', 'entities'], endToEndSeconds: [2], guard: [null] },
    ],
    ['an event from the future counts as age 0', [results({ createdAt: 9_000 })], { endToEndSeconds: [0] }],
    [
      'dead letters by code and stage, in order with the processed ones',
      [
        inferenceFailed(event(), 'INFERENCE_FAILED', 'x'),
        results(),
        { kind: 'dead', code: 'NOT_AVRO', reason: 'x', stage: 'decode', eventId: null },
      ],
      {
        deadLetters: [
          { code: 'INFERENCE_FAILED', stage: 'infer' },
          { code: 'NOT_AVRO', stage: 'decode' },
        ],
        guard: ['INFERENCE_FAILED', null, 'NOT_AVRO'],
      },
    ],
  ])('%s', (_name, outcomes, expected) => {
    expect(tallyOutcomes(outcomes, 3_000)).toMatchObject(expected);
  });
});
