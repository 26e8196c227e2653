/**
 * Reads the four result topics (read_committed) and hands each decoded result to the hub. Every
 * gateway instance uses its own consumer group, so each one sees all partitions; it starts at the
 * latest offsets and commits nothing (live results only).
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { TridentConfig } from '../common/config';
import { InvalidMessageError } from '../common/errors';
import type { Logger } from '../common/logger';
import { builtInTasks, type TaskName } from '../common/tasks';
import type { EventCodec } from '../schemas/codec';
import { ResultDedup } from '../common/result-dedup';
import { gatewayMetrics } from './metrics';
import type { ResultIdentity } from './subscriptions';

export type ResultHandler = (task: TaskName, result: ResultIdentity & Record<string, unknown>) => void;

export interface ResultStreamState {
  /** True once the consumer joined and fetched (its start offsets are fixed). */
  running: boolean;
  error?: string;
}

export class ResultStream {
  private consumer: Consumer | undefined;
  private stopped = false;
  /** Recent (topic, tenant, id) delivered; repeats are dropped (bounded: repeats arrive close together). */
  private readonly repeats = new ResultDedup(200_000);
  private retryTimer: NodeJS.Timeout | undefined;
  readonly state: ResultStreamState = { running: false };
  private readonly taskByTopic: Map<string, TaskName>;
  private onRunning: Array<() => void> = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: EventCodec,
    private readonly config: TridentConfig,
    private readonly groupId: string,
    private readonly handle: ResultHandler,
    private readonly log: Logger,
    private readonly retryMs = 5_000,
  ) {
    this.taskByTopic = new Map(builtInTasks.map((t) => [config.topics[t], t]));
  }

  /** Starts consuming in the background; on failure (missing topics, broker down) retries every `retryMs`. */
  start(): void {
    this.attempt().catch(() => undefined);
  }

  /** Resolves once the stream is running (or after `timeoutMs`, resolving false). */
  whenRunning(timeoutMs: number): Promise<boolean> {
    if (this.state.running) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.onRunning.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const consumer = this.consumer;
    this.consumer = undefined;
    this.state.running = false;
    if (consumer) await consumer.disconnect().catch(() => undefined);
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.FETCH, () => {
      if (this.state.running || this.stopped) return;
      this.state.running = true;
      delete this.state.error;
      this.log.info({ groupId: this.groupId }, 'reading result topics');
      for (const f of this.onRunning.splice(0)) f();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.state.running = false;
      this.state.error = payload.error.message;
      // kafkajs restarts the consumer itself when the error is retriable.
      if (!payload.restart) this.retry(consumer);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...this.taskByTopic.keys()], fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 1,
        eachMessage: async ({ topic, partition, message }) => {
          const task = this.taskByTopic.get(topic)!;
          gatewayMetrics.resultsConsumed.inc({ task });
          let result: Record<string, unknown>;
          try {
            result = (await this.codec.decode(task, message.value, { topic, partition, offset: message.offset })) as unknown as Record<
              string,
              unknown
            >;
          } catch (error) {
            // A live view skips what it cannot read; the processor's DLQ is the place for bad events.
            const code = error instanceof InvalidMessageError ? error.code : 'DECODE_FAILED';
            gatewayMetrics.resultsInvalid.inc({ code });
            this.log.warn({ err: error, topic, partition, offset: message.offset }, 'skipping a result that does not decode');
            return;
          }
          // At-least-once processors may write a result again after a crash; clients get it once.
          if (!this.repeats.first(topic, result as unknown as ResultIdentity)) {
            gatewayMetrics.resultsRepeated.inc({ task });
            return;
          }
          const processedAt = typeof result.processedAt === 'number' ? result.processedAt : undefined;
          if (processedAt) gatewayMetrics.deliveryLatency.observe(Math.max(0, Date.now() - processedAt) / 1000);
          this.handle(task, result as ResultIdentity & Record<string, unknown>);
        },
      });
    } catch (error) {
      this.state.error = (error as Error).message;
      this.log.warn({ err: error }, `cannot read the result topics yet; retrying in ${this.retryMs} ms`);
      this.retry(consumer);
    }
  }

  private retry(consumer: Consumer): void {
    if (this.stopped) return;
    consumer.disconnect().catch(() => undefined);
    this.retryTimer = setTimeout(() => this.attempt().catch(() => undefined), this.retryMs);
    this.retryTimer.unref();
  }
}
