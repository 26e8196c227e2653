/**
 * Fault injection around an in-process processor on the real broker: the Kafka client and the model
 * can be wrapped so one call fails on cue (the broker cannot be told to fail one EndTxn), while
 * everything else (group, transactions, topics, registry) is real.
 */
import type { Kafka, Producer, Transaction } from 'kafkajs';
import pino from 'pino';
import type { TridentConfig } from '../../common/config';
import { createKafka, defaultPartitioner } from '../../common/kafka';
import { EventCodec } from '../../schemas/codec';
import { Pipeline } from '../../model/pipeline';
import { Processor } from '../../consumers/processor/processor';
import { fixedModel, type RunModel } from '../../consumers/processor/inference';
import { builtInTasks, type TaskName } from '../../common/tasks';
import type { TextEvent } from '../../schemas/generated/text';
import { countIds, exactlyOnce, readTopic, testArtifact } from './processor-harness';

export const TASKS: TaskName[] = [...builtInTasks];

export interface InProcess {
  processor: Processor;
  pipeline: Pipeline;
  logs: string[];
  stop(): Promise<void>;
}

export interface InProcessOptions {
  wrapKafka?: (kafka: Kafka) => Kafka;
  wrapRun?: (run: RunModel) => RunModel;
  /** Builds the model the processor uses from the loaded pipeline (e.g. a ModelAvailability around it). */
  model?: (pipeline: Pipeline) => RunModel;
}

/** Starts a processor in this process with the tiny test model; resolves once it consumes. */
export async function startInProcess(config: TridentConfig, options: InProcessOptions = {}): Promise<InProcess> {
  const pipeline = await Pipeline.load(testArtifact, {
    batchSize: config.processor.maxBatchEvents,
    maxBatchTokens: config.processor.maxBatchTokens,
  });
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const kafka = (options.wrapKafka ?? ((k) => k))(createKafka(config, `fault-${process.pid}`));
  const base: RunModel = options.model ? options.model(pipeline) : (inputs, tasks) => pipeline.run(inputs, tasks);
  const run = (options.wrapRun ?? ((r) => r))(base);
  const processor = new Processor(
    kafka,
    EventCodec.fromConfig(config),
    config,
    { acquire: fixedModel(run, { name: 'test', version: '0.0.0' }) },
    log,
  );
  await processor.start();
  return {
    processor,
    pipeline,
    logs,
    async stop() {
      await processor.stop();
      await pipeline.close();
    },
  };
}

/** A Kafka whose transactional producers pass every transaction through `wrap` (the n-th one counted from 1 across producers, ignoring the empty init transaction). */
export function wrapTransactions(kafka: Kafka, wrap: (transaction: Transaction, n: number, transactionalId: string) => Transaction): Kafka {
  let count = 0;
  return new Proxy(kafka, {
    get(target, prop, receiver) {
      if (prop !== 'producer') return Reflect.get(target, prop, receiver);
      return (config: Parameters<Kafka['producer']>[0]) => {
        const producer = target.producer(config);
        let initialised = false;
        return new Proxy(producer, {
          get(p, name, r) {
            if (name !== 'transaction') return Reflect.get(p, name, r);
            return async () => {
              const transaction = await p.transaction();
              if (!initialised) {
                initialised = true;
                return transaction;
              }
              return wrap(transaction, ++count, config?.transactionalId ?? '');
            };
          },
        }) as Producer;
      };
    },
  });
}

/** Produces `count` events (ids `<prefix>-<i>`, all four tasks) to the text topic, idempotently; returns the ids. */
export async function produceEvents(config: TridentConfig, prefix: string, count: number): Promise<string[]> {
  const codec = EventCodec.fromConfig(config);
  const producer = createKafka(config, 'fault-producer').producer({ idempotent: true, createPartitioner: defaultPartitioner });
  await producer.connect();
  const ids: string[] = [];
  try {
    for (let start = 0; start < count; start += 100) {
      const messages = [];
      for (let i = start; i < Math.min(count, start + 100); i++) {
        const id = `${prefix}-${i}`;
        ids.push(id);
        const event: TextEvent = {
          id,
          text: `Order ${i}: Maria in Lisboa loved the café.`,
          tasks: TASKS,
          questions: ['Who loved the café?'],
          key: null,
          tenant: null,
          metadata: {},
          createdAt: Date.now(),
        };
        messages.push({ key: id, value: await codec.encode('text', event) });
      }
      await producer.send({ topic: config.topics.text, messages });
    }
  } finally {
    await producer.disconnect();
  }
  return ids;
}

/** Reads every task topic and the DLQ (read_committed); lost/duplicated ids per task. */
export async function countPerTask(
  config: TridentConfig,
  ids: string[],
): Promise<Record<string, { missing: number; duplicated: number; unexpected: number }>> {
  const all = await Promise.all(TASKS.map((task) => readTopic<{ id: string }>(config, task, ids.length, { timeoutMs: 90_000 })));
  return Object.fromEntries(
    TASKS.map((task, i) => {
      const r = exactlyOnce(countIds(all[i]!), ids);
      return [task, { missing: r.missing.length, duplicated: r.duplicated.length, unexpected: r.unexpected.length }];
    }),
  );
}

export const NONE_LOST_OR_DUPLICATED = Object.fromEntries(TASKS.map((t) => [t, { missing: 0, duplicated: 0, unexpected: 0 }]));

/** Waits until `predicate` holds (polling), or fails naming `what`. */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
