/**
 * The learner's consumer (`trident learn`): consumes `trident.feedback` in its own group, one
 * partition batch at a time: decode → validate against the production model → fold into the
 * dataset → produce the changed examples and the batch's offset to the changelog and the invalid
 * events to the DLQ, and commit the consumer offset, in one Kafka transaction. So the changelog
 * holds exactly the examples of the committed offsets; a kill -9 loses and double-counts nothing.
 *
 * One transactional producer, whose id is the group id: a second learner of the group fences the
 * first (whose next commit fails, which stops it). At start, after that fencing, the state is
 * rebuilt by reading the changelog (read_committed) to its end. A failed transaction is fatal
 * (`done` rejects): the in-memory state already holds the batch, and only a restart — which
 * rebuilds it from the changelog — puts it back in line with what was committed.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Batch, Consumer, Kafka, Message, Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import type { Logger } from 'pino';
import type { TridentConfig } from '../../common/config';
import { textEventLimits } from '../../common/event-validation';
import { InvalidMessageError } from '../../common/errors';
import type { TextTokenizer } from '../../model/tokenize';
import type { EventCodec } from '../../schemas/codec';
import type { FeedbackEvent } from '../../schemas/generated/feedback';
import type { DeadLetter } from '../../schemas/generated/dlq';
import { deadLetter, type Stage } from '../processor/dead-letters';
import { chunkBySize, MAX_REQUEST_BYTES, openTransactionalProducer, type TopicMessages } from '../processor/transactions';
import { DatasetState, type TrainedMark } from './dataset';
import { applyChangelogRecord, exampleRecord, offsetRecord, statsRecord, trainedRecord } from './changelog';
import { checkFeedback, type FeedbackModel } from './validate-feedback';
import { examplesAccepted, examplesRejected, feedbackIn, observeDataset } from './metrics';

/** The production model the learner validates against (replaced after a promotion). */
export interface LearnerModel {
  feedback: FeedbackModel;
  tokenizer: TextTokenizer;
}

/** What one committed batch did; `trident learn --once` sums these for its report. */
export interface BatchReport {
  partition: number;
  events: number;
  added: number;
  replaced: number;
  unchanged: number;
  dead: Array<{ offset: string; code: string; reason: string }>;
}

export class Learner {
  readonly state = new DatasetState();
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private admin: Admin | null = null;
  /** Transactions (batches and training marks) one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Per feedback partition: offset up to which everything fetched has been handled (see caughtUp). */
  private readonly reached = new Map<number, bigint>();
  private stopped = false;
  private fatal: ((error: unknown) => void) | null = null;
  private finish!: () => void;
  /** Settles when the learner stops: resolves after stop(), rejects on a fatal error. */
  readonly done: Promise<void>;

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: EventCodec,
    private readonly config: TridentConfig,
    private model: LearnerModel,
    private readonly log: Logger,
    private readonly onBatch: (report: BatchReport) => void = () => undefined,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fatal = reject;
    });
    this.done.catch(() => undefined);
  }

  get topic(): string {
    return this.config.topics.feedback;
  }

  get running(): boolean {
    return this.consumer !== null && !this.stopped;
  }

  setModel(model: LearnerModel): void {
    this.model = model;
  }

  /** Ensures the changelog topic, fences older learners of the group, restores the state. Resolves when restored (not consuming yet). */
  async restore(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await ensureChangelogTopic(this.admin, this.config);
    this.producer = await openTransactionalProducer(this.kafka, this.config.learn.groupId);
    const records = await readChangelog(this.kafka, this.admin, this.config.topics.learnChangelog, (key, value, where) =>
      applyChangelogRecord(this.state, key, value, where),
    );
    observeDataset(this.state);
    this.log.info(
      {
        changelog: this.config.topics.learnChangelog,
        records,
        examples: this.state.size,
        lastTrained: this.state.lastTrained?.version ?? null,
      },
      'dataset restored from the changelog',
    );
  }

  /** Joins the group and consumes (call restore() first). Resolves once running. */
  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.config.learn.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 200,
      maxBytesPerPartition: 1_048_576,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(payload.error);
    });
    // Also fired for batches of only transaction markers, which never reach eachBatch.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => this.reach(payload.partition, BigInt(payload.lastOffset) + 1n));
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        if (batch.isEmpty() || this.stopped || !isRunning() || isStale()) return;
        await this.serially(() => this.handle(batch));
        resolveOffset(batch.lastOffset());
      },
    });
    this.log.info({ topic: this.topic, group: this.config.learn.groupId }, 'learner consuming');
  }

  /** The feedback topic's end offsets now, per partition (what `--once` consumes up to). */
  async endOffsets(): Promise<Map<number, bigint>> {
    const offsets = await this.admin!.fetchTopicOffsets(this.topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  }

  /** True when every partition was consumed (and committed) up to `ends`. */
  caughtUp(ends: Map<number, bigint>): boolean {
    for (const [partition, end] of ends) {
      const committed = BigInt(this.state.offsetOf(partition) ?? '0');
      const reached = this.reached.get(partition) ?? 0n;
      if (committed < end && reached < end) return false;
    }
    return true;
  }

  /**
   * Runs `work` between batch transactions (nothing is folded into the state meanwhile): how the
   * trainer takes a consistent snapshot.
   */
  serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Records in the changelog which snapshot was trained into which candidate. */
  markTrained(mark: TrainedMark): Promise<void> {
    return this.serially(async () => {
      await this.transact([{ topic: this.config.topics.learnChangelog, messages: [trainedRecord(mark)] }], null);
      this.state.lastTrained = mark;
    });
  }

  /** Leaves the group (the batch in hand commits first); the producer stays for markTrained. */
  async stopConsuming(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.disconnect().catch((e: unknown) => this.log.warn({ err: e }, 'consumer disconnect failed'));
    await this.queue;
  }

  /** Stops consuming, leaves the group, closes the producer. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.stopConsuming();
    this.stopped = true;
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.finish();
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.log.error({ err: error }, 'learner stopping on a fatal error');
    this.stopped = true;
    void this.consumer?.disconnect().catch(() => undefined);
    void this.producer?.disconnect().catch(() => undefined);
    void this.admin?.disconnect().catch(() => undefined);
    this.fatal?.(error);
  }

  private reach(partition: number, next: bigint): void {
    if (next > (this.reached.get(partition) ?? -1n)) this.reached.set(partition, next);
  }

  /** One partition batch, in offset order, committed in one transaction. */
  private async handle(batch: Batch): Promise<void> {
    if (this.stopped) return;
    const { topic, partition } = batch;
    const report: BatchReport = { partition, events: batch.messages.length, added: 0, replaced: 0, unchanged: 0, dead: [] };
    const letters: Array<{ key: Buffer | null; letter: DeadLetter }> = [];
    const changelog: Message[] = [];
    const dead = (message: Batch['messages'][number], code: string, reason: string, stage: Stage, eventId: string | null) => {
      const raw = { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers };
      letters.push({ key: message.key, letter: deadLetter(raw, code, reason, stage, eventId) });
      report.dead.push({ offset: message.offset, code, reason });
      examplesRejected.inc({ code, stage });
      this.log.warn({ topic, partition, offset: message.offset, code, traceId: eventId }, reason);
    };

    const decoded: Array<FeedbackEvent | null> = [];
    for (const message of batch.messages) {
      try {
        decoded.push(await this.codec.decode('feedback', message.value, { topic, partition, offset: message.offset }));
      } catch (error) {
        if (!(error instanceof InvalidMessageError)) throw error; // registry unreachable: the batch is fetched again
        decoded.push(null);
        dead(message, error.code, error.reason, 'decode', null);
      }
    }
    // Entity spans are checked against the production tokenizer's token offsets: one batch call.
    const entityTexts = decoded.filter((e): e is FeedbackEvent => e?.task === 'entities').map((e) => e.text);
    const tokenized = await this.model.tokenizer.tokenizeBatch(entityTexts);
    const offsetsByText = new Map(tokenized.map((t) => [t.text, t.offsets]));
    const limits = textEventLimits(this.config.producer);
    let changed = false;
    for (const [i, message] of batch.messages.entries()) {
      const event = decoded[i];
      if (!event) continue;
      const check = checkFeedback(event, this.model.feedback, offsetsByText.get(event.text) ?? null, limits);
      if (!check.ok) {
        dead(message, check.code, check.reason, 'validate', event.id);
        continue;
      }
      const change = this.state.accept(check.example, { topic, partition, offset: message.offset });
      report[change.kind] += 1;
      examplesAccepted.inc({ head: change.example.head, effect: change.kind });
      if (change.kind === 'unchanged') continue;
      changed = true;
      changelog.push(exampleRecord(change.example));
    }
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    if (changed) changelog.push(statsRecord(this.state.changes, this.state.superseded));
    changelog.push(offsetRecord(partition, next));
    // From here on the state already holds the batch: any failure is fatal (see the file's comment).
    try {
      const output: TopicMessages[] = [{ topic: this.config.topics.learnChangelog, messages: changelog }];
      const deadLetters: Message[] = [];
      for (const { key, letter } of letters) deadLetters.push({ key, value: await this.codec.encode('dlq', letter) });
      if (deadLetters.length > 0) output.push({ topic: this.config.topics.dlq, messages: deadLetters });
      await this.transact(output, { partition, offset: next });
    } catch (error) {
      this.fail(error);
      throw error;
    }
    this.state.advance(partition, next);
    this.reach(partition, BigInt(next));
    feedbackIn.inc(batch.messages.length);
    observeDataset(this.state);
    this.onBatch(report);
  }

  /** One transaction: the messages, and the consumer offset when given. */
  private async transact(output: TopicMessages[], offset: { partition: number; offset: string } | null): Promise<void> {
    const transaction = await this.producer!.transaction();
    try {
      for (const chunk of chunkBySize(output, MAX_REQUEST_BYTES))
        await transaction.sendBatch({ topicMessages: chunk, compression: CompressionTypes.None, acks: -1 });
      if (offset)
        await transaction.sendOffsets({
          consumerGroupId: this.config.learn.groupId,
          topics: [{ topic: this.topic, partitions: [offset] }],
        });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }
}

/** The changelog topic: one partition (the state is one whole), compacted. Created when missing. */
export async function ensureChangelogTopic(admin: Admin, config: TridentConfig): Promise<void> {
  const topic = config.topics.learnChangelog;
  if ((await admin.listTopics()).includes(topic)) return;
  await admin
    .createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic,
          numPartitions: 1,
          replicationFactor: config.topics.replicationFactor,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
    })
    .catch((error: unknown) => {
      if (!String((error as Error).message).includes('already exists')) throw error;
    });
  for (let attempt = 1; ; attempt++) {
    try {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      if (meta && meta.partitions.length > 0 && meta.partitions.every((p) => p.leader >= 0)) return;
    } catch (error) {
      if (attempt >= 60) throw error;
    }
    if (attempt >= 60) throw new Error(`changelog topic ${topic} has no leader after 30 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Reads the whole changelog (read_committed) to its end as of now, calling `apply` per record in
 * log order; returns how many it read. Call after the producer's fencing, so no transaction of an
 * older learner is still open (the end is stable). kafkajs has no manual assignment: a throwaway
 * group reads it.
 */
export async function readChangelog(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  apply: (key: string, value: Buffer | null, where: string) => void,
): Promise<number> {
  const ends = new Map(
    (await admin.fetchTopicOffsets(topic)).filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]),
  );
  if (ends.size === 0) return 0;
  let count = 0;
  const consumer = kafka.consumer({ groupId: `trident-learn-restore-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  const done = new Promise<void>((resolve, reject) => {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const end = ends.get(payload.partition);
      if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) ends.delete(payload.partition);
      if (ends.size === 0) resolve();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
    void consumer
      .connect()
      .then(() => consumer.subscribe({ topic, fromBeginning: true }))
      .then(() =>
        consumer.run({
          eachBatch: async ({ batch }) => {
            if (!ends.has(batch.partition)) return;
            try {
              for (const message of batch.messages) {
                if (!message.key) continue;
                apply(message.key.toString(), message.value, `${topic}[${batch.partition}]@${message.offset}`);
                count += 1;
              }
            } catch (error) {
              ends.clear();
              reject(error);
            }
          },
        }),
      )
      .catch(reject);
  });
  try {
    await done;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return count;
}
