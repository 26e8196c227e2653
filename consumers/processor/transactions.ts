/**
 * One transactional producer per input partition. kafkajs has no KIP-447 (consumer group metadata)
 * fencing, so the transactional id is bound to the input partition (`<prefix>-<topic>-<partition>`):
 * whoever processes a partition next initialises the same id, which fences a zombie that still
 * holds it, and aborts its open transaction.
 */
import type { Kafka, Producer, Message } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import { processorErrorCodes } from '../../common/error-codes';
import { TridentError } from '../../common/errors';
import { defaultPartitioner } from '../../common/kafka';
import { commitSeconds, transactions as transactionMetric } from './metrics';

export class ProducerFencedError extends TridentError {
  constructor(readonly topic: string, readonly partition: number, cause: unknown) {
    super(processorErrorCodes.PRODUCER_FENCED, `${topic}[${partition}]: another processor took over this partition (producer fenced); dropping the batch`, { cause });
  }
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

/**
 * Bytes of messages per produce request. A partition batch's results can be several times its input
 * (four results per event, texts included); one request per batch would pass the broker's
 * message.max.bytes (1 MB by default). Several requests in one transaction commit atomically all the same.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** Splits messages into groups of at most `maxBytes` (key + value bytes); a larger message goes alone. */
export function chunkBySize(output: TopicMessages[], maxBytes: number): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let current = new Map<string, Message[]>();
  let bytes = 0;
  const flush = () => {
    if (current.size > 0) chunks.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    bytes = 0;
  };
  for (const { topic, messages } of output) {
    for (const message of messages) {
      const size = sizeOf(message.key) + sizeOf(message.value) + 64;
      if (bytes > 0 && bytes + size > maxBytes) flush();
      const list = current.get(topic) ?? [];
      list.push(message);
      current.set(topic, list);
      bytes += size;
    }
  }
  flush();
  return chunks;
}

function sizeOf(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

function isFenced(error: unknown): boolean {
  let e = error as { type?: string; cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.type && FENCED.has(e.type)) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return /fenced|INVALID_PRODUCER_EPOCH|epoch/i.test(String((error as Error)?.message));
}

export class PartitionTransactions {
  private readonly producers = new Map<string, Promise<Producer>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly transactionalIdPrefix: string,
    private readonly consumerGroupId: string,
  ) {}

  private key(topic: string, partition: number): string {
    return `${topic}-${partition}`;
  }

  /** The partition's producer, initialised (and any zombie fenced) on first use. */
  producer(topic: string, partition: number): Promise<Producer> {
    return this.ensure(topic, partition).producer;
  }

  /**
   * Makes sure the partition's producer is open and initialised. Resolves true when this call
   * initialised it (any previous owner of the transactional id is fenced and its last transaction
   * completed or aborted), false when it was already open.
   */
  async open(topic: string, partition: number): Promise<boolean> {
    const { producer, created } = this.ensure(topic, partition);
    await producer;
    return created;
  }

  private ensure(topic: string, partition: number): { producer: Promise<Producer>; created: boolean } {
    const key = this.key(topic, partition);
    const existing = this.producers.get(key);
    if (existing) return { producer: existing, created: false };
    const producer = this.init(topic, partition);
    this.producers.set(key, producer);
    producer.catch(() => this.producers.delete(key));
    return { producer, created: true };
  }

  private async init(topic: string, partition: number): Promise<Producer> {
    const producer = this.kafka.producer({
      transactionalId: `${this.transactionalIdPrefix}-${topic}-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
      createPartitioner: defaultPartitioner,
      // After a commit, the coordinator answers CONCURRENT_TRANSACTIONS for a few ms; the default
      // 300 ms first retry caps a partition at ~3 transactions/s. kafkajs warns that capped retries
      // can break idempotence, so retries are unbounded (it only retries retriable errors).
      retry: { initialRetryTime: 5, multiplier: 1.5, maxRetryTime: 500, retries: Number.MAX_SAFE_INTEGER },
    });
    await producer.connect();
    // kafkajs registers the transactional id (InitProducerId: bump the epoch, abort what a previous
    // owner left open) only at the first transaction(); do it now, before consuming.
    const empty = await producer.transaction();
    await empty.abort();
    return producer;
  }

  /**
   * Produces the messages and commits the consumer offset `nextOffset` of the input partition in
   * one transaction. @throws ProducerFencedError when another owner fenced this producer (the
   * caller must stop this partition's work); other errors after aborting the transaction.
   */
  async commit(topic: string, partition: number, output: TopicMessages[], nextOffset: string): Promise<void> {
    const producer = await this.producer(topic, partition);
    const started = performance.now();
    const transaction = await producer.transaction();
    try {
      for (const chunk of chunkBySize(output, MAX_REQUEST_BYTES)) await transaction.sendBatch({ topicMessages: chunk, compression: CompressionTypes.None, acks: -1 });
      await transaction.sendOffsets({ consumerGroupId: this.consumerGroupId, topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }] });
      await transaction.commit();
      transactionMetric.inc({ outcome: 'committed' });
      commitSeconds.observe((performance.now() - started) / 1000);
    } catch (error) {
      if (isFenced(error)) {
        transactionMetric.inc({ outcome: 'fenced' });
        await this.drop(topic, partition);
        throw new ProducerFencedError(topic, partition, error);
      }
      await transaction.abort().catch(() => undefined);
      transactionMetric.inc({ outcome: 'aborted' });
      throw error;
    }
  }

  /** Disconnects the partition's producer (revoked or fenced partitions). */
  async drop(topic: string, partition: number): Promise<void> {
    const key = this.key(topic, partition);
    const producer = this.producers.get(key);
    this.producers.delete(key);
    if (producer) await (await producer.catch(() => null))?.disconnect().catch(() => undefined);
  }

  /** Partitions with an open producer, as `topic-partition` keys. */
  get partitions(): string[] {
    return [...this.producers.keys()];
  }

  async close(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => null))?.disconnect().catch(() => undefined)));
  }
}
