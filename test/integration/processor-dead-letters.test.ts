/**
 * Every kind of bad input, interleaved with good events: each bad one lands in the dead-letter
 * topic with its code, reason and original bytes, and every good one still gets its results.
 */
import avro from 'avsc';
import type { Message } from 'kafkajs';
import { createKafka, defaultPartitioner } from '../../common/kafka';
import { EventCodec } from '../../schemas/codec';
import { loadSchema } from '../../schemas/catalog';
import type { TextEvent } from '../../schemas/generated/text';
import type { DeadLetter } from '../../schemas/generated/dlq';
import { createTestTopics, testConfig } from './harness';
import { processorEnv, readTopic, startServe, stopServe } from './processor-harness';

const base = (id: string, change: Partial<TextEvent> = {}): TextEvent => ({
  id,
  text: `A good sentence number ${id} about Lisbon.`,
  tasks: ['sentiment'],
  questions: [],
  key: null,
  tenant: null,
  metadata: {},
  createdAt: Date.now(),
  ...change,
});

describe('processor dead letters (real broker)', () => {
  it('dead-letters every kind of bad event with its reason and keeps processing the good ones', async () => {
    const { config, env } = testConfig('proc-dlq');
    await createTestTopics(config);
    const codec = EventCodec.fromConfig(config);
    const textType = avro.Type.forSchema(loadSchema('text') as avro.Schema);
    const encode = (event: TextEvent) => codec.encode('text', event);
    const goodId = await encode(base('probe'));
    const header = goodId.subarray(0, 5);

    const invalidUtf8 = (() => {
      const body = textType.toBuffer(base('bad-utf8', { text: 'caf__ in Lisbon' }));
      const at = body.indexOf(Buffer.from('__'));
      body[at] = 0xc3;
      body[at + 1] = 0x28; // 0xC3 must be followed by a continuation byte; 0x28 is not one
      return Buffer.concat([header, body]);
    })();

    const bad: Array<{ code: string; message: Message }> = [
      { code: 'NULL_VALUE', message: { key: 'tomb', value: null } },
      { code: 'NOT_AVRO', message: { value: Buffer.from('{"id":"json","text":"not avro"}') } },
      { code: 'NOT_AVRO', message: { value: Buffer.concat([Buffer.from([1]), goodId.subarray(1)]) } },
      { code: 'SCHEMA_UNKNOWN', message: { value: Buffer.concat([Buffer.from([0, 0x0f, 0x42, 0x40, 0x00]), goodId.subarray(5)]) } },
      {
        code: 'SCHEMA_WRONG_TOPIC',
        message: {
          value: await codec.encode('feedback', {
            id: 'fb',
            text: 'x',
            task: 'sentiment',
            head: null,
            label: 'positive',
            entities: [],
            answer: null,
            source: 't',
            modelVersion: null,
            createdAt: 1,
          }),
        },
      },
      { code: 'AVRO_DECODE_FAILED', message: { value: goodId.subarray(0, 12) } },
      { code: 'TEXT_EMPTY', message: { value: await encode(base('empty', { text: '' })) } },
      { code: 'TEXT_WHITESPACE', message: { value: await encode(base('spaces', { text: ' \n\t ' })) } },
      { code: 'TEXT_TOO_LARGE', message: { value: await encode(base('large', { text: 'é'.repeat(1500) })) } },
      { code: 'TEXT_INVALID_UTF8', message: { value: invalidUtf8 } },
      { code: 'TEXT_INVALID_UTF8', message: { value: await encode(base('surrogate', { text: 'lone \ud800 surrogate' })) } },
      { code: 'TEXT_CONTROL_CHARACTERS', message: { value: await encode(base('control', { text: 'ring the bell \u0007 now' })) } },
      { code: 'TASK_UNKNOWN', message: { value: await encode(base('task', { tasks: ['summarize'] })) } },
      { code: 'TASKS_EMPTY', message: { value: await encode(base('notasks', { tasks: [] })) } },
      {
        code: 'QUESTIONS_TOO_MANY',
        message: { value: await encode(base('manyq', { tasks: ['answers'], questions: Array.from({ length: 17 }, (_, i) => `q${i}?`) })) },
      },
      { code: 'QUESTION_EMPTY', message: { value: await encode(base('emptyq', { tasks: ['answers'], questions: ['   '] })) } },
      {
        code: 'QUESTION_TOO_LONG',
        message: { value: await encode(base('longq', { tasks: ['answers'], questions: ['why'.repeat(400)] })) },
      },
      {
        code: 'QUESTION_INVALID_CHARACTERS',
        message: { value: await encode(base('ctrlq', { tasks: ['answers'], questions: ['who\u0000?'] })) },
      },
      { code: 'ANSWERS_WITHOUT_QUESTIONS', message: { value: await encode(base('noq', { tasks: ['answers'] })) } },
      { code: 'ID_EMPTY', message: { value: await encode(base(' ')) } },
      { code: 'ID_TOO_LONG', message: { value: await encode(base('i'.repeat(300))) } },
      { code: 'METADATA_TOO_LARGE', message: { value: await encode(base('meta', { metadata: { blob: 'm'.repeat(20_000) } })) } },
      { code: 'CREATED_AT_INVALID', message: { value: await encode(base('time', { createdAt: -5 })) } },
      { code: 'HEADERS_TOO_LARGE', message: { value: await encode(base('headers')), headers: { big: Buffer.alloc(20_000, 1) } } },
      { code: 'DUPLICATE_ID', message: { key: 'dup', value: await encode(base('dup-id')) } },
    ];
    const messages: Message[] = [];
    const goodIds: string[] = [];
    for (const [i, b] of bad.entries()) {
      goodIds.push(`good-${i}`);
      messages.push({ key: b.code === 'DUPLICATE_ID' ? 'dup' : null, value: await encode(base(`good-${i}`)) });
      if (b.code === 'DUPLICATE_ID') messages.push({ key: 'dup', value: await encode(base('dup-id')) }); // the first one is processed
      messages.push(b.message);
    }
    goodIds.push('dup-id');
    const producer = createKafka(config, 'dlq-test').producer({ createPartitioner: defaultPartitioner });
    await producer.connect();
    await producer.send({ topic: config.topics.text, messages }); // one request: the duplicates share a partition batch
    await producer.disconnect();

    const serve = await startServe(processorEnv(env, { TRIDENT_PRODUCER_MAX_TEXT_BYTES: '2000' }));
    try {
      const letters = await readTopic<DeadLetter>(config, 'dlq', bad.length);
      const results = await readTopic<{ id: string }>(config, 'sentiment', goodIds.length);
      expect(results.map((r) => r.id).sort()).toEqual([...goodIds].sort());
      expect(letters.map((l) => l.errorCode).sort()).toEqual(bad.map((b) => b.code).sort());
      for (const b of bad) {
        const letter = letters.find(
          (l) =>
            l.errorCode === b.code &&
            (b.message.value === null ? l.value === null : Buffer.from(l.value ?? []).equals(b.message.value as Buffer)),
        );
        expect({ code: b.code, found: letter !== undefined }).toEqual({ code: b.code, found: true });
        expect(letter!.reason.length).toBeGreaterThan(5);
        expect(letter!.sourceTopic).toBe(config.topics.text);
        expect(Number(letter!.sourceOffset)).toBeGreaterThanOrEqual(0);
        expect(['decode', 'validate', 'infer']).toContain(letter!.stage);
      }
    } finally {
      await stopServe(serve);
    }
  });

  it('stops with a clear message when too many events in a window are dead letters', async () => {
    const { config, env } = testConfig('proc-guard');
    await createTestTopics(config);
    const producer = createKafka(config, 'guard-test').producer({ createPartitioner: defaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: config.topics.text,
      messages: Array.from({ length: 20 }, (_, i) => ({ value: Buffer.from(`not avro ${i}`) })),
    });
    await producer.disconnect();
    const serve = await startServe(
      processorEnv(env, { TRIDENT_PROCESSOR_DLQ_WINDOW_EVENTS: '10', TRIDENT_PROCESSOR_DLQ_MAX_RATIO: '0.5' }),
    );
    expect(await serve.exited).toBe(1);
    expect(serve.output()).toMatch(/trident: \d+ of the last 10 events were dead-lettered \(more than 50 %; top codes: NOT_AVRO ×\d+\)/);
  });
});
