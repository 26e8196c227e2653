/**
 * Fault injection on the processor's commit path, on the real broker: each scenario, then exactly
 * one result per event per task (read_committed) and every partition moving again.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from 'kafkajs';
import { createKafka } from '../../common/kafka';
import { TridentError } from '../../common/errors';
import { ModelAvailability } from '../../consumers/processor/model-availability';
import { readTopic } from './processor-harness';
import { createTestTopics, testConfig, uniqueName } from './harness';
import { NONE_LOST_OR_DUPLICATED, TASKS, countPerTask, produceEvents, startInProcess, waitFor, wrapTransactions } from './fault-harness';
import { EventCodec } from '../../schemas/codec';

function configFor(prefix: string, processor: Record<string, unknown> = {}) {
  const group = uniqueName(`fault-${prefix}`);
  return testConfig(prefix, {
    processor: { groupId: group, transactionalIdPrefix: group, maxBatchEvents: 8, sessionTimeoutMs: 6000, ...processor },
  }).config;
}

describe('processor commit faults (real broker)', () => {
  it('a failed EndTxn (lost before or after the broker committed) discards the producer; nothing lost or duplicated, partitions move on', async () => {
    const config = configFor('endtxn');
    await createTestTopics(config);
    const injected: string[] = [];
    const ids = await produceEvents(config, 'endtxn', 300);
    const running = await startInProcess(config, {
      wrapKafka: (kafka) =>
        wrapTransactions(kafka, (transaction, n) => {
          if (n !== 2 && n !== 3) return transaction;
          return {
            ...transaction,
            sendBatch: transaction.sendBatch.bind(transaction),
            sendOffsets: transaction.sendOffsets.bind(transaction),
            abort: transaction.abort.bind(transaction),
            isActive: transaction.isActive.bind(transaction),
            commit: async () => {
              // n = 3: the broker commits, the answer is lost. n = 2: EndTxn never arrives. kafkajs
              // then stays in COMMITTING, where every later transaction() of this producer throws.
              if (n === 3) await transaction.commit();
              injected.push(n === 3 ? 'commit lost after the broker committed' : 'EndTxn failed');
              throw Object.assign(new Error('Connection error: read ECONNRESET (injected)'), {
                name: 'KafkaJSConnectionError',
                retriable: true,
              });
            },
          } as Transaction;
        }),
    });
    try {
      expect(await countPerTask(config, ids)).toEqual(NONE_LOST_OR_DUPLICATED);
      expect(injected).toEqual(['EndTxn failed', 'commit lost after the broker committed']);
      expect(running.logs.join('')).toContain('TRANSACTION_FAILED');
    } finally {
      await running.stop();
    }
  });

  it('a producer fenced on partitions this member still owns (its transactional ids initialised elsewhere mid-batch) recovers', async () => {
    const config = configFor('fenced');
    await createTestTopics(config);
    const ids = await produceEvents(config, 'fenced', 300);
    let runs = 0;
    let fenced = false;
    const fence = async () => {
      // What a session-timeout rejoin or an expired transaction looks like: another instance of
      // each partition's transactional id is initialised, so our producers' epochs are old.
      const kafka = createKafka(config, 'fault-fencer');
      for (let p = 0; p < config.topics.partitions; p++) {
        const zombieKiller = kafka.producer({
          transactionalId: `${config.processor.transactionalIdPrefix}-${config.topics.text}-${p}`,
          idempotent: true,
          maxInFlightRequests: 1,
        });
        await zombieKiller.connect();
        await (await zombieKiller.transaction()).abort();
        await zombieKiller.disconnect();
      }
      fenced = true;
    };
    const running = await startInProcess(config, {
      wrapRun: (run) => async (inputs, tasks) => {
        runs += 1;
        if (runs === 3) await fence(); // batches are in flight on every partition now
        return run(inputs, tasks);
      },
    });
    try {
      expect(await countPerTask(config, ids)).toEqual(NONE_LOST_OR_DUPLICATED);
      expect(fenced).toBe(true);
      expect(running.logs.join('')).toContain('PRODUCER_FENCED');
    } finally {
      await running.stop();
    }
  });

  it('a partition revoked and handed back while its batch is in flight: that batch is not committed again', async () => {
    const config = configFor('handback');
    await createTestTopics(config);
    const ids = await produceEvents(config, 'handback', 240);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let waiting = 0;
    const a = await startInProcess(config, {
      wrapRun: (run) => async (inputs, tasks) => {
        waiting += 1;
        await gate; // A's batches stay in flight until B has come and gone
        return run(inputs, tasks);
      },
    });
    try {
      await waitFor('A to have batches in flight', () => waiting > 0);
      const b = await startInProcess(config); // the group rebalances: B takes some of A's partitions and commits their events
      await waitFor(
        'the rebalance to give B partitions and B to commit',
        () => b.logs.some((l) => l.includes('partitions assigned') && !l.includes('"assignment":{}')) && b.processor !== null,
        60_000,
      );
      await new Promise((r) => setTimeout(r, 4000));
      await b.stop(); // … and hands them back to A
      await waitFor('A to get every partition back', () => a.logs.filter((l) => l.includes('partitions assigned')).length >= 3, 60_000);
      open();
      expect(await countPerTask(config, ids)).toEqual(NONE_LOST_OR_DUPLICATED);
      expect(a.logs.join('')).toContain('PRODUCER_STALE');
    } finally {
      open();
      await a.stop();
    }
  });

  it('a crashed model worker: its events stay uncommitted (no dead letters), the worker is restarted with backoff, its state says restarting meanwhile', async () => {
    const config = configFor('worker');
    await createTestTopics(config);
    const ids = await produceEvents(config, 'worker', 300);
    let availability!: ModelAvailability;
    const states: string[] = [];
    let runs = 0;
    const running = await startInProcess(config, {
      model: (pipeline) => {
        // The first worker dies on its third batch; reloads give a working one.
        const dying = {
          run: async (inputs: Parameters<typeof pipeline.run>[0], tasks: string[]) => {
            runs += 1;
            if (runs >= 3) throw new TridentError('MODEL_WORKER_DIED', 'encoder.onnx: inference worker stopped: exit code 134 (injected)');
            return pipeline.run(inputs, tasks);
          },
          close: async () => undefined,
        };
        availability = new ModelAvailability(
          dying,
          async () => ({ run: (inputs, tasks) => pipeline.run(inputs, tasks), close: async () => undefined }),
          {
            baseDelayMs: 1500,
            onStateChange: (status) => states.push(status.state),
          },
        );
        return availability.run;
      },
    });
    try {
      expect(await countPerTask(config, ids)).toEqual(NONE_LOST_OR_DUPLICATED);
      expect(await readTopic(config, 'dlq', 0, { settleMs: 500, timeoutMs: 3000 })).toEqual([]);
      expect(states).toEqual(['restarting', 'ready']);
      expect(availability.status.restarts).toBe(1);
    } finally {
      await running.stop();
    }
  });

  it('a poison batch is retried with backoff, then stops the processor with a coded error naming partition and offset; a fixed processor resumes it', async () => {
    const config = configFor('poison', { maxBatchRetries: 2 });
    await createTestTopics(config);
    const ids = await produceEvents(config, 'poison', 150);
    const poisoned = `-${config.topics.text}-0`;
    const running = await startInProcess(config, {
      wrapKafka: (kafka) =>
        wrapTransactions(kafka, (transaction, _n, transactionalId) =>
          transactionalId.endsWith(poisoned)
            ? ({
                ...transaction,
                sendBatch: async () =>
                  Promise.reject(
                    Object.assign(
                      new Error('The request included a message larger than the max message size the server will accept (injected)'),
                      { type: 'MESSAGE_TOO_LARGE', code: 10 },
                    ),
                  ),
                abort: transaction.abort.bind(transaction),
                commit: transaction.commit.bind(transaction),
                sendOffsets: transaction.sendOffsets.bind(transaction),
                isActive: transaction.isActive.bind(transaction),
              } as Transaction)
            : transaction,
        ),
    });
    const failure = await running.processor.done.then(
      () => null,
      (error: unknown) => error,
    );
    await running.pipeline.close();
    expect(failure).toMatchObject({ code: 'BATCH_RETRIES_EXHAUSTED', topic: config.topics.text, partition: 0, attempts: 3 });
    expect((failure as Error).message).toContain(`${config.topics.text}[0]@`);
    const fixed = await startInProcess(config);
    try {
      expect(await countPerTask(config, ids)).toEqual(NONE_LOST_OR_DUPLICATED);
    } finally {
      await fixed.stop();
    }
  });

  it('an input near message.max.bytes plus headers is dead-lettered with its value cut, its length and sha256 recorded; the partition moves on', async () => {
    const config = configFor('oversized');
    await createTestTopics(config);
    const huge = Buffer.alloc(1_030_000, 0x61); // not Avro: NOT_AVRO, copied to the DLQ
    const producer = createKafka(config, 'fault-oversized').producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic: config.topics.text,
      messages: [{ key: 'huge', value: huge, partition: 0, headers: { trace: 'h'.repeat(10_000) } }],
    });
    await producer.disconnect();
    const ids = await produceEvents(config, 'oversized', 60);
    const running = await startInProcess(config);
    try {
      expect(await countPerTask(config, ids)).toEqual(NONE_LOST_OR_DUPLICATED);
      const [letter] = await readTopic<{ errorCode: string; value: Buffer; valueBytes: number; valueSha256: string }>(config, 'dlq', 1);
      expect(letter).toMatchObject({
        errorCode: 'NOT_AVRO',
        valueBytes: huge.length,
        valueSha256: createHash('sha256').update(huge).digest('hex'),
      });
      expect(letter!.value.length).toBeLessThan(huge.length);
    } finally {
      await running.stop();
    }
  });

  it('a long text with many questions is dead-lettered as TOKEN_BUDGET_EXCEEDED; a long one within budget runs in its own lane while the rest flows', async () => {
    const config = configFor('tokens', { maxEventTokens: 20_000, maxBatchTokens: 2048 });
    await createTestTopics(config);
    const codec = EventCodec.fromConfig(config);
    const longText = 'Maria flew from Lisboa to Berlin. '.repeat(600); // ~5k estimated tokens
    const base = { key: null, tenant: null, metadata: {}, createdAt: Date.now(), tasks: TASKS };
    const producer = createKafka(config, 'fault-tokens').producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic: config.topics.text,
      messages: [
        {
          key: 'greedy',
          value: await codec.encode('text', {
            ...base,
            id: 'greedy',
            text: longText,
            questions: Array.from({ length: 8 }, (_, i) => `Where did Maria fly, part ${i}?`),
          }),
        },
        {
          key: 'long',
          value: await codec.encode('text', { ...base, id: 'long', text: longText, tasks: ['sentiment', 'entities'], questions: [] }),
        },
      ],
    });
    await producer.disconnect();
    const ids = await produceEvents(config, 'tokens', 150);
    const running = await startInProcess(config);
    try {
      // The one unexpected id in sentiment and entities is 'long' (checked below: exactly once).
      const withLong = { missing: 0, duplicated: 0, unexpected: 1 };
      expect(await countPerTask(config, ids)).toEqual({ ...NONE_LOST_OR_DUPLICATED, sentiment: withLong, entities: withLong });
      const letters = await readTopic<{ errorCode: string; eventId: string; reason: string }>(config, 'dlq', 1);
      expect(letters.map((l) => [l.eventId, l.errorCode])).toEqual([['greedy', 'TOKEN_BUDGET_EXCEEDED']]);
      expect(letters[0]!.reason).toContain('8 questions');
      const long = await readTopic<{ id: string }>(config, 'sentiment', ids.length + 1);
      expect(long.filter((r) => r.id === 'long')).toHaveLength(1);
    } finally {
      await running.stop();
    }
  });

  it('a fatal stop (the dead-letter guard) closes the model only after the batches in flight committed: no MODEL_CLOSED dead letters', async () => {
    const config = configFor('fatal', { dlqWindowEvents: 20, dlqMaxRatio: 0.5 });
    await createTestTopics(config);
    const ids = await produceEvents(config, 'fatal', 90);
    const producer = createKafka(config, 'fault-fatal').producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic: config.topics.text,
      messages: Array.from({ length: 60 }, (_, i) => ({ key: `bad-${i}`, value: Buffer.from(`not avro ${i}`) })),
    });
    await producer.disconnect();
    let slow = true;
    const running = await startInProcess(config, {
      // Model runs take a while, so batches are in flight when the guard trips on another partition.
      wrapRun: (run) => async (inputs, tasks) => {
        if (slow) await new Promise((r) => setTimeout(r, 300));
        return run(inputs, tasks);
      },
    });
    // As `trident serve` does: close the model when done rejects.
    const failure = await running.processor.done.then(
      () => null,
      async (error: unknown) => {
        await running.pipeline.close();
        return error;
      },
    );
    slow = false;
    expect(failure).toMatchObject({ code: 'DLQ_RATE_EXCEEDED' });
    const letters = await readTopic<{ errorCode: string }>(config, 'dlq', 1, { settleMs: 2000, timeoutMs: 20_000 });
    expect(letters.filter((l) => l.errorCode !== 'NOT_AVRO')).toEqual([]);
    // Whatever was not committed is processed by the next processor, exactly once.
    const next = await startInProcess({ ...config, processor: { ...config.processor, dlqMaxRatio: 1 } });
    try {
      expect(await countPerTask(config, ids)).toEqual(NONE_LOST_OR_DUPLICATED);
    } finally {
      await next.stop();
    }
  });
});
