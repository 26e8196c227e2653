/**
 * Every read_committed reader of the project against transactions that interleave on one partition:
 * `trident tail` (the CLI), the gateway's result stream, the exactly-once checker of the processor
 * tests and the benchmarks' result listener. Records carry ~4 KB keys, so each reader needs several
 * fetches, and every fetch after the first starts inside transactions that began before it — the
 * case kafkajs 2.2.4's filter got wrong (patches/kafkajs+2.2.4.patch). Each reader must return the
 * committed records only, in the order they were written, none missing.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, Producer, Transaction } from 'kafkajs';
import type { TridentConfig } from '../../common/config';
import { createKafka } from '../../common/kafka';
import { stageLogger } from '../../common/logger';
import { ResultStream } from '../../gateway/results';
import { listenResults } from '../../bench/processor-common';
import { EventCodec } from '../../schemas/codec';
import type { SentimentResult } from '../../schemas/generated/sentiment';
import { createTestTopics, runCli, testConfig } from './harness';
import { readTopic } from './processor-harness';

const PARTITION = 0;
const KEY_BYTES = 4096;

/** One step of a scenario: a producer opens, writes one record to, commits or aborts a transaction. */
type Step = { producer: number; op: 'begin' } | { producer: number; op: 'send'; id: string } | { producer: number; op: 'commit' | 'abort' };

/** Two producers, 400 records each, interleaved in one transaction each; both abort; then both commit 10 interleaved records. */
function twoAbortedThenCommitted(): Step[] {
  const steps: Step[] = [
    { producer: 0, op: 'begin' },
    { producer: 1, op: 'begin' },
  ];
  for (let i = 0; i < 400; i++) for (const p of [0, 1]) steps.push({ producer: p, op: 'send', id: `aborted-${p}-${i}` });
  steps.push({ producer: 1, op: 'abort' }, { producer: 0, op: 'abort' });
  steps.push({ producer: 0, op: 'begin' }, { producer: 1, op: 'begin' });
  for (let i = 0; i < 10; i++) for (const p of [0, 1]) steps.push({ producer: p, op: 'send', id: `committed-${p}-${i}` });
  steps.push({ producer: 0, op: 'commit' }, { producer: 1, op: 'commit' });
  return steps;
}

/**
 * Three producers: one long transaction per round of producer 0 (aborted in even rounds), inside
 * which producers 1 and 2 run short transactions, committed and aborted in turn. The broker lists
 * aborted transactions in the order they ended, not began, so the long ones come after short ones
 * that began later.
 */
function mixedInterleaved(): Step[] {
  const steps: Step[] = [];
  let n = 0;
  for (let round = 0; round < 4; round++) {
    steps.push({ producer: 0, op: 'begin' });
    for (let short = 0; short < 4; short++) {
      const p = 1 + (short % 2);
      steps.push({ producer: p, op: 'begin' });
      for (let i = 0; i < 25; i++) {
        steps.push({ producer: p, op: 'send', id: `r${round}-s${short}-p${p}-${n++}` });
        steps.push({ producer: 0, op: 'send', id: `r${round}-long-p0-${n++}` });
      }
      steps.push({ producer: p, op: (round + short) % 2 === 0 ? 'abort' : 'commit' });
    }
    steps.push({ producer: 0, op: round % 2 === 0 ? 'abort' : 'commit' });
  }
  return steps;
}

/** The ids a read_committed reader must return, in offset order (steps run one at a time, so send order is offset order). */
function committedIds(steps: Step[]): string[] {
  const sent: Array<{ id: string; producer: number; txn: number }> = [];
  const outcome = new Map<number, 'commit' | 'abort'>();
  const txnOf = new Map<number, number>();
  let txns = 0;
  for (const step of steps) {
    if (step.op === 'begin') {
      txnOf.set(step.producer, txns++);
    } else if (step.op === 'send') sent.push({ id: step.id, producer: step.producer, txn: txnOf.get(step.producer)! });
    else outcome.set(txnOf.get(step.producer)!, step.op);
  }
  return sent.filter((s) => outcome.get(s.txn) === 'commit').map((s) => s.id);
}

function result(id: string): SentimentResult {
  return {
    id,
    key: null,
    tenant: null,
    modelName: 'read-committed-test',
    modelVersion: '0',
    createdAt: 0,
    processedAt: 0,
    label: 'neutral',
    scores: { neutral: 1 },
  };
}

/** Runs the steps one at a time, each record to PARTITION with a ~4 KB key. */
async function writeSteps(kafka: Kafka, codec: EventCodec, config: TridentConfig, steps: Step[]): Promise<void> {
  const producerCount = Math.max(...steps.map((s) => s.producer)) + 1;
  const prefix = randomUUID();
  const producers: Producer[] = [];
  for (let p = 0; p < producerCount; p++) {
    const producer = kafka.producer({ transactionalId: `read-committed-${prefix}-${p}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    producers.push(producer);
  }
  const open = new Map<number, Transaction>();
  try {
    for (const step of steps) {
      if (step.op === 'begin') open.set(step.producer, await producers[step.producer]!.transaction());
      else if (step.op === 'send') {
        const key = `${step.id}:`.padEnd(KEY_BYTES, 'k');
        await open.get(step.producer)!.send({
          topic: config.topics.sentiment,
          messages: [{ partition: PARTITION, key, value: await codec.encode('sentiment', result(step.id)) }],
        });
      } else {
        await open.get(step.producer)![step.op]();
        open.delete(step.producer);
      }
    }
  } finally {
    for (const producer of producers) await producer.disconnect();
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The live readers (they start at the end): the gateway's result stream and the benchmarks' listener. */
async function startLiveReaders(config: TridentConfig): Promise<{ gateway: string[]; bench: string[]; stop: () => Promise<void> }> {
  const gateway: string[] = [];
  const bench: string[] = [];
  const stream = new ResultStream(
    createKafka(config, 'read-committed-gateway'),
    EventCodec.fromConfig(config),
    config,
    `gw-${randomUUID()}`,
    (_task, r) => gateway.push(r.id),
    stageLogger('test-gateway'),
  );
  stream.start();
  if (!(await stream.whenRunning(60_000))) throw new Error('the gateway result stream did not start');
  const stopBench = await listenResults(config, (id) => bench.push(id));
  return {
    gateway,
    bench,
    stop: async () => {
      await stream.stop();
      await stopBench();
    },
  };
}

describe.each([
  ['two producers abort 400 interleaved records each, then commit', twoAbortedThenCommitted],
  ['committed and aborted transactions interleave with long ones', mixedInterleaved],
])('read_committed readers: %s', (_name, scenario) => {
  let config: TridentConfig;
  let env: NodeJS.ProcessEnv;
  let expected: string[];
  let live: Awaited<ReturnType<typeof startLiveReaders>>;

  beforeAll(async () => {
    ({ config, env } = testConfig('read-committed'));
    await createTestTopics(config);
    const codec = EventCodec.fromConfig(config);
    const kafka = createKafka(config, 'read-committed-writer');
    live = await startLiveReaders(config);
    // A committed first record that both live readers must see proves they read from before the scenario.
    const steps: Step[] = [
      { producer: 0, op: 'begin' },
      { producer: 0, op: 'send', id: 'ready' },
      { producer: 0, op: 'commit' },
    ];
    await writeSteps(kafka, codec, config, steps);
    await waitFor(() => live.gateway.includes('ready'), 'the gateway result stream to see the first record');
    await waitFor(() => live.bench.includes('ready'), 'the benchmarks’ listener to see the first record');
    const scenarioSteps = scenario();
    await writeSteps(kafka, codec, config, scenarioSteps);
    expected = ['ready', ...committedIds(scenarioSteps)];
    expect(expected.length).toBeGreaterThan(1);
  });

  afterAll(async () => {
    await live?.stop();
  });

  it('trident tail --from-beginning prints exactly the committed records, in order', async () => {
    const tailed = await runCli(['tail', config.topics.sentiment, '--from-beginning', '--timeout', '120'], env);
    expect(tailed.code).toBe(0);
    const ids = tailed.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(expected);
  });

  it('the processor tests’ exactly-once reader returns exactly the committed records, in order', async () => {
    const records = await readTopic<{ id: string }>(config, 'sentiment', expected.length, { settleMs: 3000, timeoutMs: 120_000 });
    expect(records.map((r) => r.id)).toEqual(expected);
  });

  it('the gateway’s result stream and the benchmarks’ listener receive exactly the committed records, in order', async () => {
    const last = expected[expected.length - 1]!;
    await waitFor(
      () => live.gateway.includes(last) && live.bench.includes(last),
      'the live readers to see the last committed record',
      120_000,
    );
    // Anything read after the last committed record would be a record of an aborted transaction.
    await new Promise((r) => setTimeout(r, 3000));
    expect(live.gateway).toEqual(expected);
    expect(live.bench).toEqual(expected);
  });
});
