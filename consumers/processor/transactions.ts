/**
 * One transactional producer per input partition. kafkajs has no KIP-447 (consumer group metadata)
 * fencing, so the transactional id is bound to the input partition (`<prefix>-<topic>-<partition>`):
 * whoever processes a partition next initialises the same id, which fences a zombie that still
 * holds it, and aborts its open transaction.
 */
import type { Kafka, Producer, Message, Transaction } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import { defaultPartitioner } from '../../common/kafka';
import { commitSeconds, transactions as transactionMetric } from './metrics';
import { PartitionProducers, ProducerFencedError, StaleProducerError, type PartitionProducer } from './partition-producer';
import type { BatchOutput } from './at-least-once';

export { ProducerFencedError, StaleProducerError, TransactionFailedError } from './partition-producer';

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

/**
 * The processor's transactional producers: one per input partition, leased to the batches consumed
 * under it (see partition-producer.ts for the rules), with the produce + sendOffsets body of a commit.
 */
export class PartitionTransactions implements BatchOutput<PartitionProducer<Transaction>> {
  private readonly producers: PartitionProducers<Transaction>;

  constructor(
    kafka: Kafka,
    transactionalIdPrefix: string,
    private readonly consumerGroupId: string,
  ) {
    this.producers = new PartitionProducers((topic, partition) =>
      openTransactionalProducer(kafka, `${transactionalIdPrefix}-${topic}-${partition}`),
    );
  }

  /** The partition's producer (a lease for one batch); `fresh` when this call initialised it (re-read the group offset then). */
  open(topic: string, partition: number): Promise<{ producer: PartitionProducer<Transaction>; fresh: boolean }> {
    return this.producers.open(topic, partition);
  }

  /**
   * Produces the messages and commits the consumer offset `nextOffset` of the input partition in
   * one transaction of `producer`, the lease the batch was consumed with.
   * @throws StaleProducerError, ProducerFencedError, TransactionFailedError (see PartitionProducers.transact).
   */
  async commit(producer: PartitionProducer<Transaction>, output: TopicMessages[], nextOffset: string): Promise<void> {
    const { topic, partition } = producer;
    const started = performance.now();
    try {
      await this.producers.transact(producer, async (transaction) => {
        for (const chunk of chunkBySize(output, MAX_REQUEST_BYTES))
          await transaction.sendBatch({ topicMessages: chunk, compression: CompressionTypes.None, acks: -1 });
        await transaction.sendOffsets({
          consumerGroupId: this.consumerGroupId,
          topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }],
        });
      });
    } catch (error) {
      transactionMetric.inc({
        outcome: error instanceof ProducerFencedError ? 'fenced' : error instanceof StaleProducerError ? 'stale' : 'aborted',
      });
      throw error;
    }
    transactionMetric.inc({ outcome: 'committed' });
    commitSeconds.observe((performance.now() - started) / 1000);
  }

  /** Discards the partition's producer (revoked partitions). */
  drop(topic: string, partition: number): Promise<void> {
    return this.producers.drop(topic, partition);
  }

  /** Partitions with an open producer, as `topic-partition` keys. */
  get partitions(): string[] {
    return this.producers.partitions;
  }

  close(): Promise<void> {
    return this.producers.close();
  }
}

/**
 * A transactional producer with its id registered now (InitProducerId bumps the epoch: an older
 * holder of the id is fenced and its open transaction aborted). The processor's per-partition
 * producers and the learner's use it.
 */
export async function openTransactionalProducer(kafka: Kafka, transactionalId: string): Promise<Producer> {
  const producer = kafka.producer({
    transactionalId,
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
  try {
    // kafkajs registers the transactional id (InitProducerId: bump the epoch, abort what a previous
    // owner left open) only at the first transaction(); do it now, before consuming.
    const empty = await producer.transaction();
    await empty.abort();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw error;
  }
  return producer;
}
