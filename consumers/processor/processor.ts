/**
 * The streaming processor (`trident serve`): consumes `trident.text` in a consumer group, and for
 * each fetched batch of a partition: decode → validate → micro-batch (shared with the other
 * partitions) → infer → produce results and dead letters + commit the offsets, in one Kafka
 * transaction per partition batch (or, with `processor.delivery: at-least-once`, produced first and
 * the offsets committed after their acks; see at-least-once.ts). Offsets travel with the messages;
 * only that last step commits.
 * A partition stays paused while its batch is in flight, so the fetch loop keeps serving the other
 * partitions instead of waiting for every batch of the last fetch to commit (kafkajs fetches again
 * only when all handlers of a fetch have returned).
 */
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { TridentConfig } from '../../common/config';
import { EventCodec } from '../../schemas/codec';
import { Dispatcher } from './dispatcher';
import { InferenceStep, type AcquireModel } from './inference';
import { DEFAULT_EVENT_LIMITS } from './validate-event';
import { DeadLetterRateExceeded, DeadLetterRateGuard } from './dead-letters';
import {
  deadOutcome,
  encodeOutcomes,
  inferenceFailed,
  prepareMessage,
  tallyOutcomes,
  type EncodeContext,
  type Outcome,
  type PrepareContext,
} from './outcomes';
import { checkEventCost } from './event-cost';
import { PartitionTransactions, ProducerFencedError, StaleProducerError, type TopicMessages } from './transactions';
import { atLeastOnceOutput, type BatchOutput, type OutputLease } from './at-least-once';
import { PartitionControl } from './partition-control';
import { BatchRetries } from './batch-retries';
import { isModelUnavailable } from './model-availability';
import { SeenIds, parseDuration, seenIdKey } from './seen-ids';
import { ChangelogRestorer, changelogRecord, ensureChangelog } from './seen-ids-changelog';
import { deadLetters, endToEndSeconds, eventsIn, inFlightEvents, partitionLag, resultsOut } from './metrics';

export interface ProcessorModel {
  /** The model each micro-batch runs on (see model-source.ts); results carry the version that computed them. */
  acquire: AcquireModel;
  maxTextChars?: number;
}

/** Largest result event kept with its copy of the input text (the broker's default message limit is 1 MB). */
const MAX_RESULT_BYTES = 900_000;

export class Processor {
  private consumer: Consumer | null = null;
  /** Where batches commit: one transaction per partition batch, or at-least-once (processor.delivery). */
  private readonly batchOutput: BatchOutput;
  private readonly dispatcher: Dispatcher;
  private readonly guard: DeadLetterRateGuard;
  private readonly prepareContext: PrepareContext;
  private readonly encodeContext: EncodeContext;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private readonly control: PartitionControl;
  private readonly retries: BatchRetries;
  /** Ids processed within processor.dedupWindow (null when off), restored per partition from the changelog. */
  private readonly seenIds: SeenIds | null;
  private readonly dedupTopic: string;
  private restorer: ChangelogRestorer | null = null;
  private readonly restored = new Map<number, Promise<void>>();
  /** `topic-partition` keys this member was assigned at the last rebalance. */
  private owned = new Set<string>();
  private failure: ((error: unknown) => void) | null = null;
  /** Per `topic-partition`: the batch consumed and not yet committed (at most one; the partition is paused meanwhile). */
  private readonly inFlight = new Map<string, Promise<void>>();
  private admin: Admin | null = null;
  private adminConnected: Promise<void> | null = null;
  /** Settles when the processor stops: resolves after `stop()`, rejects on a fatal error (e.g. the DLQ guard). */
  readonly done: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: EventCodec,
    private readonly config: TridentConfig,
    private readonly model: ProcessorModel,
    private readonly log: Logger,
  ) {
    const p = config.processor;
    this.dispatcher = new Dispatcher(
      { maxEvents: p.maxBatchEvents, maxWaitMs: p.maxBatchWaitMs, maxTokens: p.maxBatchTokens, adaptiveWait: p.batchWait === 'adaptive' },
      new InferenceStep(model.acquire, p.maxInFlightBatches),
      (error, attempt) => log.warn({ err: error, attempt }, 'inference busy; retrying the batch'),
      new InferenceStep(model.acquire, 1),
    );
    this.guard = new DeadLetterRateGuard(p.dlqWindowEvents, p.dlqMaxRatio);
    this.prepareContext = {
      decode: (value, origin) => codec.decode('text', value, origin),
      defaultTasks: p.defaultTasks,
      limits: {
        ...DEFAULT_EVENT_LIMITS,
        maxTextBytes: config.producer.maxTextBytes,
        maxQuestions: config.producer.maxQuestions,
        maxQuestionChars: config.producer.maxQuestionChars,
        maxTextChars: model.maxTextChars ?? DEFAULT_EVENT_LIMITS.maxTextChars,
      },
      maxHeaderBytes: p.maxHeaderBytes,
    };
    this.encodeContext = {
      encode: (kind, event) => codec.encode(kind, event),
      topics: config.topics,
      includeText: p.includeText,
      maxResultBytes: MAX_RESULT_BYTES,
    };
    this.control = new PartitionControl(() => this.consumer, log);
    this.retries = new BatchRetries(p.maxBatchRetries);
    const window = parseDuration(p.dedupWindow) ?? 0;
    this.seenIds = window > 0 ? new SeenIds(window, p.dedupMaxIdsPerPartition) : null;
    this.dedupTopic = p.dedupTopic ?? `${p.groupId}-processed-ids`;
    this.batchOutput =
      p.delivery === 'at-least-once'
        ? atLeastOnceOutput(
            kafka,
            (topic, partition, offset) => this.commitOffset(topic, partition, offset),
            this.seenIds ? this.dedupTopic : null,
          )
        : new PartitionTransactions(kafka, p.transactionalIdPrefix, p.groupId);
    this.done = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.failure = reject;
    });
    this.done.catch(() => undefined);
  }

  /** True between start() and stop (or a fatal error). */
  get running(): boolean {
    return this.consumer !== null && !this.stopped;
  }

  /** Joins the group and starts consuming; resolves once running. */
  async start(): Promise<void> {
    const topic = this.config.topics.text;
    const consumer = this.kafka.consumer({
      groupId: this.config.processor.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 1_048_576,
      maxWaitTimeInMs: 100,
      sessionTimeout: this.config.processor.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(this.config.processor.sessionTimeoutMs / 3)),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => void this.onAssignment(payload.memberAssignment as Record<string, number[]>));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(payload.error);
    });
    if (this.seenIds) {
      const admin = await this.connectedAdmin();
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      await ensureChangelog(
        admin,
        this.dedupTopic,
        meta?.partitions.length ?? this.config.topics.partitions,
        this.config.topics.replicationFactor,
        this.seenIds.windowMs,
      );
      this.restorer = new ChangelogRestorer(this.kafka, () => this.connectedAdmin(), this.dedupTopic, this.seenIds, this.log);
    }
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 64,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.log.info({ topic, group: this.config.processor.groupId }, 'processor running');
  }

  /** Stops fetching, lets the batches in flight finish and commit, leaves the group. */
  stop(): Promise<void> {
    return this.shutdown(null);
  }

  /**
   * Finishes and commits what was consumed while still a group member, then leaves; a batch whose
   * handler was already running when we stopped registers late, so wait again after leaving. `done`
   * settles only after that, so whoever closes the model on a fatal error does it after the batches
   * in flight are done with it (else their events would fail as MODEL_CLOSED).
   */
  private shutdown(error: unknown): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.dispatcher.flush();
      await this.drainInFlight();
      await this.consumer?.disconnect().catch((e) => this.log.warn({ err: e }, 'consumer disconnect failed'));
      this.dispatcher.flush();
      await this.drainInFlight();
      await this.admin?.disconnect().catch(() => undefined);
      this.dispatcher.close();
      await this.batchOutput.close();
      if (error === null) this.finish();
      else this.failure?.(error);
    })();
    return this.stopping;
  }

  private async drainInFlight(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private fail(error: unknown): void {
    this.log.error({ err: error }, 'processor stopping on a fatal error');
    void this.shutdown(error);
  }

  /**
   * After a rebalance: resume what a fenced batch paused (the new assignment is authoritative) and
   * drop producers of partitions this member no longer owns; they would only be fenced.
   */
  private async onAssignment(assignment: Record<string, number[]>): Promise<void> {
    const owned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => `${topic}-${p}`)));
    this.owned = owned;
    // Revoked partitions: their processed ids are restored from the changelog if they come back.
    for (const partition of [...this.restored.keys()]) {
      if (!owned.has(`${this.config.topics.text}-${partition}`)) {
        this.restored.delete(partition);
        this.seenIds?.forget(partition);
      }
    }
    // A partition with a batch still in flight stays paused; that batch resumes it when it commits.
    const idle = Object.entries(assignment)
      .map(([topic, partitions]) => ({ topic, partitions: partitions.filter((p) => !this.inFlight.has(`${topic}-${p}`)) }))
      .filter(({ partitions }) => partitions.length > 0);
    for (const { topic, partitions } of idle) this.control.resume(topic, partitions);
    for (const key of this.batchOutput.partitions) {
      if (!owned.has(key)) {
        const cut = key.lastIndexOf('-');
        await this.batchOutput.drop(key.slice(0, cut), Number(key.slice(cut + 1)));
      }
    }
    this.log.info({ assignment }, 'partitions assigned');
  }

  /**
   * Takes one fetched partition batch: decode and validate in offset order, hand the valid events to
   * the micro-batcher, pause the partition and return at once, so the next fetch (other partitions'
   * events) does not wait for this batch's model time and commit. The batch's transaction commits in
   * the background (`complete`), which then resumes the partition: one batch in flight per partition.
   */
  private async handleBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.isEmpty() || this.stopped) return;
    const { topic, partition } = batch;
    const key = `${topic}-${partition}`;
    // A batch fetched before a rebalance took the partition away: initialising its transactional id
    // now would fence the new owner. Leave it; the new owner processes it.
    if (isStale() || !isRunning() || !this.owned.has(key)) return;
    // A consumer restarted by kafkajs forgets its pauses: pause again while the batch is in flight.
    if (this.inFlight.has(key)) return void this.control.pause(topic, [partition]);
    // Make sure this partition's transactional id is ours (fencing any zombie) before any work. The
    // batch commits only with this producer (its lease); a dropped or replaced one refuses.
    const { producer, fresh } = await this.batchOutput.open(topic, partition).catch((error: unknown) => {
      throw new Error(`cannot initialise the transactional producer of ${key}: ${(error as Error).message}`, { cause: error });
    });
    if (fresh) {
      // The previous owner's last transaction (or our own failed commit) may have committed after
      // this member read the group's offsets; initialising our id waited for it, so read again.
      const committed = await this.committedOffset(topic, partition);
      if (committed !== null && committed > BigInt(batch.firstOffset() ?? '0')) {
        this.log.info(
          { topic, partition, committed: committed.toString(), fetched: batch.firstOffset() },
          'skipping events already committed',
        );
        this.control.seek(topic, partition, committed.toString());
        return;
      }
    }
    // Before the first batch of a newly assigned partition: its processed ids (after our producer's
    // initialisation, so the previous owner's last transaction is settled in the changelog too).
    if (this.restorer && !this.restored.has(partition)) {
      const restoring = this.restorer.restore(partition);
      this.restored.set(partition, restoring);
      restoring.catch(() => this.restored.delete(partition));
    }
    await this.restored.get(partition);
    if (isStale() || !this.owned.has(key)) return;
    partitionLag.set({ topic, partition: String(partition) }, Number(batch.offsetLag()));
    eventsIn.inc({ topic }, batch.messages.length);
    inFlightEvents.inc(batch.messages.length);
    // Decode and validate in offset order (the duplicate-id rule keeps the first); valid events go to
    // the micro-batcher, shared with the other partitions.
    const seen = new Set<string>();
    const outcomes: Array<Promise<Outcome>> = [];
    try {
      for (const message of batch.messages) outcomes.push((await this.prepare(topic, partition, message, seen)).outcome);
    } catch (error) {
      inFlightEvents.dec(batch.messages.length);
      throw error; // nothing resolved: kafkajs fetches the batch again
    }
    const messages = batch.messages;
    const first = messages[0]!.offset;
    const last = messages[messages.length - 1]!.offset;
    this.control.pause(topic, [partition]);
    resolveOffset(last);
    const work = this.complete(producer, messages, outcomes, first, last).finally(() => {
      inFlightEvents.dec(messages.length);
      this.inFlight.delete(key);
    });
    this.inFlight.set(key, work);
  }

  /**
   * Waits for a partition batch's outcomes, commits them in one transaction of the producer the
   * batch was consumed with, resumes the partition. Never rejects. When the commit fails, that
   * producer is already discarded: the partition goes back to the batch's first offset, and its
   * next batch opens a new producer (fencing the old epoch) and re-reads the group's offset.
   */
  private async complete(
    producer: OutputLease,
    messages: KafkaMessage[],
    outcomes: Array<Promise<Outcome>>,
    first: string,
    last: string,
  ): Promise<void> {
    const { topic, partition } = producer;
    const key = `${topic}-${partition}`;
    let resumeDelayMs = 0;
    try {
      const all = await Promise.allSettled(outcomes);
      const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const settled = all.map((r) => (r as PromiseFulfilledResult<Outcome>).value);
      // Revoked meanwhile: the next owner redoes it (and our transactional id is fenced anyway).
      if (!this.owned.has(key)) return;
      const output = await this.encodeOutput(messages, settled, topic, partition);
      // The processed ids go to the changelog in the same transaction: it holds exactly the committed ones.
      const processed = settled.flatMap((o) => (o.kind === 'results' ? [seenIdKey(o.event.tenant, o.event.id)] : []));
      const processedAt = Date.now();
      if (this.seenIds && processed.length > 0)
        output.push({ topic: this.dedupTopic, messages: processed.map((k) => changelogRecord(partition, k, processedAt)) });
      const next = (BigInt(last) + 1n).toString();
      await this.batchOutput.commit(producer, output, next);
      this.seenIds?.record(partition, processed, processedAt);
      this.retries.succeeded(topic, partition);
      this.account(settled);
      // A rebalance that kept this partition here meanwhile reset the fetch position to the group's
      // offset as it was before this commit: always continue right after what was just committed.
      this.control.seek(topic, partition, next);
      this.guard.check();
    } catch (error) {
      if (error instanceof DeadLetterRateExceeded) {
        this.fail(error);
        return;
      }
      if (!this.owned.has(key) || this.stopped) return; // revoked meanwhile: the next owner redoes it
      if (error instanceof ProducerFencedError || error instanceof StaleProducerError) {
        // Not this batch's fault; if the partition is still ours, go on with a new producer at once.
        this.log.warn({ topic, partition, offset: first, code: error.code }, error.message);
      } else if (isModelUnavailable(error)) {
        this.log.warn({ topic, partition, offset: first, err: error }, 'model unavailable; the batch stays uncommitted and is retried');
        resumeDelayMs = 1000;
      } else {
        try {
          resumeDelayMs = this.retries.failed(topic, partition, first, error);
        } catch (exhausted) {
          this.fail(exhausted);
          return;
        }
        this.log.error({ err: error, topic, partition, offset: first, retryInMs: resumeDelayMs }, 'partition batch failed; retrying it');
      }
      // Nothing of this batch was committed (or, if the broker did commit it, the fresh producer's
      // re-read of the group offset skips it): do it again from its first offset.
      this.control.seek(topic, partition, first);
    }
    if (resumeDelayMs > 0) await new Promise((r) => setTimeout(r, resumeDelayMs));
    if (!this.stopped && this.owned.has(key)) this.control.resume(topic, [partition]);
  }

  private async connectedAdmin(): Promise<Admin> {
    this.admin ??= this.kafka.admin();
    await (this.adminConnected ??= this.admin.connect());
    return this.admin;
  }

  /** At-least-once: commits the input offset through the group consumer, after the batch's records were acknowledged. */
  private async commitOffset(topic: string, partition: number, offset: string): Promise<void> {
    if (!this.consumer) throw new Error('the consumer is not running');
    await this.consumer.commitOffsets([{ topic, partition, offset }]);
  }

  /** The group's committed offset of one partition (null when none). */
  private async committedOffset(topic: string, partition: number): Promise<bigint | null> {
    const [entry] = await (await this.connectedAdmin()).fetchOffsets({ groupId: this.config.processor.groupId, topics: [topic] });
    const offset = entry?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || Number(offset) < 0 ? null : BigInt(offset);
  }

  /**
   * Decodes and validates one message (outcomes.ts). Returns (wrapped, so awaiting this does not
   * wait for the model) its dead-letter outcome, or for a valid event the promise of its results,
   * already submitted to the batcher. Never throws for bad input.
   */
  private async prepare(
    topic: string,
    partition: number,
    message: KafkaMessage,
    seenIds: Set<string>,
  ): Promise<{ outcome: Promise<Outcome> }> {
    const prepared = await prepareMessage(message, { topic, partition, offset: message.offset }, seenIds, this.prepareContext);
    if (prepared.kind === 'dead') return { outcome: Promise.resolve(prepared) };
    const { event, tasks } = prepared;
    const dead = (code: string, reason: string) => ({ outcome: Promise.resolve<Outcome>(deadOutcome(code, reason, 'validate', event.id)) });
    // Idempotent ingestion: an id processed for this tenant within processor.dedupWindow gets no second result.
    const processedAt = this.seenIds?.seenAt(partition, seenIdKey(event.tenant, event.id), Date.now()) ?? null;
    if (processedAt !== null) {
      return dead(
        'DUPLICATE_ID',
        `id ${JSON.stringify(event.id)}${event.tenant ? ` of tenant ${JSON.stringify(event.tenant)}` : ''} was already processed at ${new Date(processedAt).toISOString()}; within processor.dedupWindow (${this.config.processor.dedupWindow}) it gets no second result`,
      );
    }
    const questions = tasks.includes('answers') ? event.questions.length : 0;
    const cost = checkEventCost(prepared.tokens, questions, this.config.processor.maxEventTokens, this.config.processor.maxBatchTokens);
    if (!cost.ok) return dead(cost.code, cost.reason);
    const outcome = this.dispatcher
      .submit({ id: event.id, text: event.text, questions: event.questions, tasks }, prepared.tokens)
      .then((result): Outcome =>
        result.ok
          ? { kind: 'results', event, tasks, output: result.output, model: result.model }
          : inferenceFailed(event, result.code, result.reason),
      );
    return { outcome };
  }

  private async encodeOutput(messages: KafkaMessage[], outcomes: Outcome[], topic: string, partition: number): Promise<TopicMessages[]> {
    const output = await encodeOutcomes(messages, outcomes, { topic, partition }, this.encodeContext, Date.now());
    outcomes.forEach((outcome, i) => {
      if (outcome.kind === 'dead')
        this.log.warn({ traceId: outcome.eventId, topic, partition, offset: messages[i]!.offset, code: outcome.code }, outcome.reason);
    });
    return output;
  }

  private account(outcomes: Outcome[]): void {
    const tally = tallyOutcomes(outcomes, Date.now());
    for (const { code, stage } of tally.deadLetters) deadLetters.inc({ code, stage });
    for (const task of tally.results) resultsOut.inc({ task });
    for (const seconds of tally.endToEndSeconds) endToEndSeconds.observe(seconds);
    for (const code of tally.guard) this.guard.record(code);
  }
}
