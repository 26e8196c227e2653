/**
 * The registry on Kafka: reading `trident.models` into a RegistryState (to its end, or following
 * it), and appending records. Thin: every rule lives in state.ts.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { TridentConfig } from '../../common/config';
import { TridentError } from '../../common/errors';
import { defaultPartitioner } from '../../common/kafka';
import { ensureTopics, topicSpecs } from '../../common/topics';
import type { EventCodec } from '../../schemas/codec';
import { applyRecord, emptyState, recordKey, type ModelRecord, type RegistryState } from './state';

/** Who writes a record from this process: `user@host`. */
export function whoAmI(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `${user}@${hostname()}`;
}

/**
 * Follows the models topic from its beginning (read_committed) and keeps the derived state.
 * `start()` resolves once it has read up to the end the topic had when it started.
 */
export class RegistryFollower {
  private consumer: Consumer | null = null;
  private readonly groupId = `trident-models-reader-${process.pid}-${randomBytes(4).toString('hex')}`;
  state: RegistryState = emptyState();
  private readonly listeners: Array<(state: RegistryState) => void> = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: EventCodec,
    readonly topic: string,
  ) {}

  /** Calls `listener` after every batch of records applied once caught up. */
  onChange(listener: (state: RegistryState) => void): void {
    this.listeners.push(listener);
  }

  /** Joins, reads to the current end of the topic; resolves with the state then. Throws REGISTRY_READ_TIMEOUT. */
  async start(timeoutMs = 30_000): Promise<RegistryState> {
    const admin = this.kafka.admin();
    await admin.connect();
    let target: bigint;
    try {
      const [offsets] = await retryRetriable(() => admin.fetchTopicOffsets(this.topic));
      target = BigInt(offsets?.high ?? '0');
      if (target <= BigInt(offsets?.low ?? '0')) target = 0n;
    } finally {
      await admin.disconnect();
    }
    // No group offsets are ever committed: every reader starts from the beginning (the group id
    // only exists because kafkajs consumers need one).
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    let caughtUp = target === 0n;
    let resolveCaughtUp!: () => void;
    const reached = new Promise<void>((resolve) => (resolveCaughtUp = resolve));
    if (caughtUp) resolveCaughtUp();
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic !== this.topic) return;
      // lastOffset counts control records (transaction markers) too, so the end is reachable.
      if (!caughtUp && BigInt(payload.lastOffset) + 1n >= target) {
        caughtUp = true;
        resolveCaughtUp();
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const key = message.key?.toString('utf8') ?? '';
          const record =
            message.value === null
              ? null
              : await this.codec.decode('models', message.value, {
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: message.offset,
                });
          this.state = applyRecord(this.state, key, record, BigInt(message.offset));
        }
        if (caughtUp && batch.messages.length > 0) for (const listener of this.listeners) listener(this.state);
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TridentError(
              'REGISTRY_READ_TIMEOUT',
              `could not read ${this.topic} to its end (offset ${target}) within ${timeoutMs} ms: is a transaction on it left open, or the broker down?`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([reached, timeout]);
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    for (const listener of this.listeners) listener(this.state);
    return this.state;
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    if (!consumer) return;
    await consumer.disconnect().catch(() => undefined);
    const admin = this.kafka.admin();
    // Leave no empty reader groups behind.
    await admin
      .connect()
      .then(() => admin.deleteGroups([this.groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect().catch(() => undefined));
  }
}

/**
 * Retries kafkajs' retriable errors a few times: right after the topic is created a KRaft broker
 * answers NOT_LEADER_FOR_PARTITION for a moment (its metadata image lags the controller).
 */
async function retryRetriable<T>(work: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}

/** Reads the whole models topic once. */
export async function readRegistry(kafka: Kafka, codec: EventCodec, topic: string): Promise<RegistryState> {
  const follower = new RegistryFollower(kafka, codec, topic);
  try {
    return await follower.start();
  } finally {
    await follower.stop();
  }
}

/** Creates the models topic (compacted, one partition) when missing. */
export async function ensureModelsTopic(kafka: Kafka, config: TridentConfig): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicSpecs(config, [config.topics.models]));
  } finally {
    await admin.disconnect();
  }
}

/** Appends records in order (idempotent producer, all replicas). */
export async function appendRecords(kafka: Kafka, codec: EventCodec, topic: string, records: ModelRecord[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: defaultPartitioner });
  await producer.connect();
  try {
    const messages = await Promise.all(
      records.map(async (r) => ({ key: recordKey(r.name, r.version), value: await codec.encode('models', r) })),
    );
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Appends a `rejected` record for a production record, once however many processors refuse it.
 * All writers share one transactional id: initialising it fences any other writer and completes
 * (commits or aborts) its open transaction, so the log read right after shows every rejection
 * committed before ours could be; the write is skipped when one is there. A writer fenced between
 * its read and its commit aborts, and whoever fenced it reads again and writes. At most one commit
 * therefore lands, and at least one when any processor is left running.
 * Resolves true when this call wrote the record.
 */
export async function appendRejectionOnce(
  kafka: Kafka,
  codec: EventCodec,
  topic: string,
  rejection: ModelRecord,
  promotionOffset: bigint,
): Promise<boolean> {
  const producer: Producer = kafka.producer({
    transactionalId: `trident-models-rejections-${topic}`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: defaultPartitioner,
    retry: { initialRetryTime: 50, retries: 10 },
  });
  await producer.connect();
  try {
    const init = await producer.transaction(); // InitProducerId: fence the others, finish their transaction
    await init.abort();
    const state = await readRegistry(kafka, codec, topic);
    const current = state.versions.get(recordKey(rejection.name, rejection.version));
    // Already rejected (or changed again) since that promotion: someone else wrote it.
    if (!current || current.offset > promotionOffset) return false;
    const transaction = await producer.transaction();
    try {
      await transaction.send({
        topic,
        messages: [{ key: recordKey(rejection.name, rejection.version), value: await codec.encode('models', rejection) }],
        acks: -1,
      });
      await transaction.commit();
      return true;
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}
