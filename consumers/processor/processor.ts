/**
 * The streaming processor (`trident serve`): consumes `trident.text` in a consumer group, and for
 * each fetched batch of a partition: decode → validate → micro-batch (shared with the other
 * partitions) → infer → produce results and dead letters + commit the offsets, in one Kafka
 * transaction per partition batch. Offsets travel with the messages; only that last step commits.
 * A partition stays paused while its batch is in flight, so the fetch loop keeps serving the other
 * partitions instead of waiting for every batch of the last fetch to commit (kafkajs fetches again
 * only when all handlers of a fetch have returned).
 */
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Message } from 'kafkajs';
import type { Logger } from 'pino';
import type { TridentConfig } from '../../common/config';
import { InvalidMessageError } from '../../common/errors';
import { EventCodec } from '../../schemas/codec';
import type { TextEvent } from '../../schemas/generated/text';
import type { TaskName } from '../../producers/records';
import { estimateTokens } from './batcher';
import { Dispatcher } from './dispatcher';
import { InferenceStep, type AcquireModel, type RunModel } from './inference';
import { checkEvent, headerBytes, DEFAULT_EVENT_LIMITS, type EventLimits } from './validate-event';
import { DeadLetterRateGuard, deadLetter, type RawMessage, type Stage } from './dead-letters';
import { resultEvents, type ModelIdentity } from './results';
import { PartitionTransactions, ProducerFencedError, type TopicMessages } from './transactions';
import { deadLetters, endToEndSeconds, eventsIn, inFlightEvents, partitionLag, resultsOut } from './metrics';

export interface ProcessorModel {
  /** The model each micro-batch runs on (see model-source.ts); results carry the version that computed them. */
  acquire: AcquireModel;
  maxTextChars?: number;
}

type Outcome =
  | { kind: 'results'; event: TextEvent; tasks: TaskName[]; output: Awaited<ReturnType<RunModel>>[number]; model: ModelIdentity }
  | { kind: 'dead'; code: string; reason: string; stage: Stage; eventId: string | null };

/** Largest result event kept with its copy of the input text (the broker's default message limit is 1 MB). */
const MAX_RESULT_BYTES = 900_000;

export class Processor {
  private consumer: Consumer | null = null;
  private readonly transactions: PartitionTransactions;
  private readonly dispatcher: Dispatcher;
  private readonly guard: DeadLetterRateGuard;
  private readonly limits: EventLimits;
  private stopped = false;
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
    this.transactions = new PartitionTransactions(kafka, p.transactionalIdPrefix, p.groupId);
    this.dispatcher = new Dispatcher(
      { maxEvents: p.maxBatchEvents, maxWaitMs: p.maxBatchWaitMs, maxTokens: p.maxBatchTokens },
      new InferenceStep(model.acquire, p.maxInFlightBatches),
      (error, attempt) => log.warn({ err: error, attempt }, 'inference busy; retrying the batch'),
    );
    this.guard = new DeadLetterRateGuard(p.dlqWindowEvents, p.dlqMaxRatio);
    this.limits = {
      ...DEFAULT_EVENT_LIMITS,
      maxTextBytes: config.producer.maxTextBytes,
      maxQuestions: config.producer.maxQuestions,
      maxQuestionChars: config.producer.maxQuestionChars,
      maxTextChars: model.maxTextChars ?? DEFAULT_EVENT_LIMITS.maxTextChars,
    };
    this.done = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.failure = reject;
    });
    this.done.catch(() => undefined);
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
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Finish and commit what was consumed while still a group member, then leave; a batch whose
    // handler was already running when we stopped registers late, so wait again after leaving.
    this.dispatcher.flush();
    await this.drainInFlight();
    await this.consumer?.disconnect().catch((error) => this.log.warn({ err: error }, 'consumer disconnect failed'));
    this.dispatcher.flush();
    await this.drainInFlight();
    await this.admin?.disconnect().catch(() => undefined);
    this.dispatcher.close();
    await this.transactions.close();
    this.finish();
  }

  private async drainInFlight(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  private fail(error: unknown): void {
    this.log.error({ err: error }, 'processor stopping on a fatal error');
    this.failure?.(error);
    void this.stop();
  }

  /**
   * After a rebalance: resume what a fenced batch paused (the new assignment is authoritative) and
   * drop producers of partitions this member no longer owns; they would only be fenced.
   */
  private async onAssignment(assignment: Record<string, number[]>): Promise<void> {
    const owned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => `${topic}-${p}`)));
    this.owned = owned;
    // A partition with a batch still in flight stays paused; that batch resumes it when it commits.
    const idle = Object.entries(assignment)
      .map(([topic, partitions]) => ({ topic, partitions: partitions.filter((p) => !this.inFlight.has(`${topic}-${p}`)) }))
      .filter(({ partitions }) => partitions.length > 0);
    if (idle.length > 0) this.consumer?.resume(idle);
    for (const key of this.transactions.partitions) {
      if (!owned.has(key)) {
        const cut = key.lastIndexOf('-');
        await this.transactions.drop(key.slice(0, cut), Number(key.slice(cut + 1)));
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
    if (isStale() || !isRunning() || !this.owned.has(key) || this.inFlight.has(key)) return;
    // Make sure this partition's transactional id is ours (fencing any zombie) before any work.
    const fresh = await this.transactions.open(topic, partition).catch((error: unknown) => {
      throw new Error(`cannot initialise the transactional producer of ${key}: ${(error as Error).message}`, { cause: error });
    });
    if (fresh) {
      // The previous owner's last transaction may have committed after this member read the group's
      // offsets (its commit raced the rebalance); initialising our id waited for it, so read again.
      const committed = await this.committedOffset(topic, partition);
      if (committed !== null && committed > BigInt(batch.firstOffset() ?? '0')) {
        this.log.info({ topic, partition, committed: committed.toString(), fetched: batch.firstOffset() }, 'skipping events the previous owner committed');
        this.consumer?.seek({ topic, partition, offset: committed.toString() });
        return;
      }
    }
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
    this.consumer?.pause([{ topic, partitions: [partition] }]);
    resolveOffset(last);
    const work = this.complete(topic, partition, messages, outcomes, first, last).finally(() => {
      inFlightEvents.dec(messages.length);
      this.inFlight.delete(key);
    });
    this.inFlight.set(key, work);
  }

  /** Waits for a partition batch's outcomes, commits them in one transaction, resumes the partition. Never rejects. */
  private async complete(topic: string, partition: number, messages: KafkaMessage[], outcomes: Array<Promise<Outcome>>, first: string, last: string): Promise<void> {
    const key = `${topic}-${partition}`;
    let retryFrom: string | null = null;
    let resumeDelayMs = 0;
    try {
      const all = await Promise.allSettled(outcomes);
      const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const settled = all.map((r) => (r as PromiseFulfilledResult<Outcome>).value);
      // Revoked meanwhile: the next owner redoes it (and our transactional id is fenced anyway).
      if (!this.owned.has(key)) return;
      const output = await this.encodeOutput(messages, settled, topic, partition);
      const next = (BigInt(last) + 1n).toString();
      await this.transactions.commit(topic, partition, output, next);
      this.account(settled);
      // A rebalance that kept this partition here meanwhile reset the fetch position to the group's
      // offset as it was before this commit: always continue right after what was just committed.
      this.consumer?.seek({ topic, partition, offset: next });
      this.guard.check();
    } catch (error) {
      if (error instanceof ProducerFencedError) {
        // Someone else owns this partition now; never go on with it. The next assignment resumes it.
        this.log.warn({ topic, partition }, error.message);
        return;
      }
      if ((error as { code?: string }).code === 'DLQ_RATE_EXCEEDED') {
        this.fail(error);
        return;
      }
      if (!this.owned.has(key)) return; // revoked meanwhile (its producer was dropped): the next owner redoes it
      // Nothing of this batch was committed (the transaction aborted): do it again from its first offset.
      this.log.error({ err: error, topic, partition, offset: first }, 'partition batch failed; retrying it');
      retryFrom = first;
      resumeDelayMs = 1000;
    }
    if (retryFrom !== null && this.owned.has(key)) this.consumer?.seek({ topic, partition, offset: retryFrom });
    if (resumeDelayMs > 0) await new Promise((r) => setTimeout(r, resumeDelayMs));
    if (!this.stopped && this.owned.has(key)) this.consumer?.resume([{ topic, partitions: [partition] }]);
  }

  /** The group's committed offset of one partition (null when none). */
  private async committedOffset(topic: string, partition: number): Promise<bigint | null> {
    this.admin ??= this.kafka.admin();
    await (this.adminConnected ??= this.admin.connect());
    const [entry] = await this.admin.fetchOffsets({ groupId: this.config.processor.groupId, topics: [topic] });
    const offset = entry?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || Number(offset) < 0 ? null : BigInt(offset);
  }

  /**
   * Decodes and validates one message. Returns (wrapped, so awaiting this does not wait for the
   * model) its dead-letter outcome, or for a valid event the promise of its results, already
   * submitted to the batcher. Never throws for bad input.
   */
  private async prepare(topic: string, partition: number, message: KafkaMessage, seenIds: Set<string>): Promise<{ outcome: Promise<Outcome> }> {
    const origin = { topic, partition, offset: message.offset };
    const deadOutcome = (code: string, reason: string, stage: Stage, eventId: string | null = null): Outcome => ({ kind: 'dead', code, reason, stage, eventId });
    const dead = (code: string, reason: string, stage: Stage, eventId: string | null = null) => ({ outcome: Promise.resolve(deadOutcome(code, reason, stage, eventId)) });
    const headers = headerBytes(message.headers);
    if (headers > this.config.processor.maxHeaderBytes) return dead('HEADERS_TOO_LARGE', `headers are ${headers} bytes; the limit is ${this.config.processor.maxHeaderBytes}`, 'decode');
    let event: TextEvent;
    try {
      event = await this.codec.decode('text', message.value, origin);
    } catch (error) {
      if (error instanceof InvalidMessageError) return dead(error.code, error.reason, 'decode');
      throw error;
    }
    const check = checkEvent(event, this.config.processor.defaultTasks, this.limits);
    if (!check.ok) return dead(check.code, check.reason, 'validate', event.id);
    // Policy: ids are unique per partition batch; a repeat in the same batch is dead-lettered, the first is processed.
    if (seenIds.has(event.id)) return dead('DUPLICATE_ID', `id ${JSON.stringify(event.id)} appears earlier in the same batch; only the first is processed`, 'validate', event.id);
    seenIds.add(event.id);
    const wantsTextPass = check.tasks.some((t) => t !== 'answers');
    const questions = check.tasks.includes('answers') ? event.questions : [];
    const tokens = estimateTokens(event.text, questions, wantsTextPass);
    const tasks = check.tasks;
    const outcome = this.dispatcher.submit({ id: event.id, text: event.text, questions: event.questions, tasks }, tokens).then(
      (result): Outcome => (result.ok ? { kind: 'results', event, tasks, output: result.output, model: result.model } : deadOutcome(result.code, result.reason, 'infer', event.id)),
    );
    return { outcome };
  }

  private async encodeOutput(messages: KafkaMessage[], outcomes: Outcome[], topic: string, partition: number): Promise<TopicMessages[]> {
    const byTopic = new Map<string, Message[]>();
    const push = (t: string, m: Message) => {
      const list = byTopic.get(t) ?? [];
      list.push(m);
      byTopic.set(t, list);
    };
    const processedAt = Date.now();
    for (const [i, outcome] of outcomes.entries()) {
      const message = messages[i]!;
      if (outcome.kind === 'dead') {
        const raw: RawMessage = { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers };
        const letter = deadLetter(raw, outcome.code, outcome.reason, outcome.stage, outcome.eventId, processedAt);
        push(this.config.topics.dlq, { key: message.key, value: await this.codec.encode('dlq', letter) });
        this.log.warn({ traceId: outcome.eventId, topic, partition, offset: message.offset, code: outcome.code }, outcome.reason);
        continue;
      }
      const key = outcome.event.key ?? outcome.event.id;
      for (const result of resultEvents(outcome.event, outcome.tasks, outcome.output, outcome.model, this.config.processor.includeText, processedAt)) {
        let value = await this.codec.encode(result.kind, result.event as never);
        // A result must fit in one Kafka message; the copy of the input text is what can make it too big.
        if (value.length > MAX_RESULT_BYTES && 'text' in result.event && result.event.text !== null) {
          value = await this.codec.encode(result.kind, { ...result.event, text: null } as never);
        }
        push(this.config.topics[result.kind], { key, value, headers: { 'trace-id': outcome.event.id } });
      }
    }
    return [...byTopic].map(([t, m]) => ({ topic: t, messages: m }));
  }

  private account(outcomes: Outcome[]): void {
    const now = Date.now();
    for (const outcome of outcomes) {
      if (outcome.kind === 'dead') {
        deadLetters.inc({ code: outcome.code, stage: outcome.stage });
        this.guard.record(outcome.code);
      } else {
        for (const task of outcome.tasks) resultsOut.inc({ task });
        endToEndSeconds.observe(Math.max(0, now - outcome.event.createdAt) / 1000);
        this.guard.record(null);
      }
    }
  }
}
