/**
 * At-least-once delivery (`processor.delivery: at-least-once`): no transactions. One idempotent
 * producer (no duplicates from its own retries) writes a partition batch's results and dead letters;
 * only after the broker acknowledged all of them (acks=all) are the processed ids written to the
 * dedup changelog, and only after that is the input offset committed. A crash at any point leaves
 * the offset behind what was written, so the batch is read again: results may repeat (each carries
 * the event id; readers dedupe by it, see common/result-dedup.ts), nothing is lost. Records are plain (not
 * transactional), so read_committed readers see them as soon as they are acknowledged: no wait for
 * commit markers.
 *
 * The changelog goes after the results on purpose: an id recorded as processed whose results were not
 * all written would be dead-lettered as DUPLICATE_ID on redelivery, i.e. lost.
 *
 * Pure of Kafka: sending and committing are injected, so the ordering is tested with fakes.
 */
import type { Kafka, Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import { TridentError } from '../../common/errors';
import { defaultPartitioner } from '../../common/kafka';
import { commitSeconds } from './metrics';
import { MAX_REQUEST_BYTES, chunkBySize, type TopicMessages } from './transactions';

/** What a partition batch commits through: the input partition it was consumed from. */
export interface OutputLease {
  readonly topic: string;
  readonly partition: number;
}

/**
 * How the processor writes a partition batch's output and commits its input offset: one
 * transaction per batch (PartitionTransactions) or at-least-once (AtLeastOnceOutput).
 */
export interface BatchOutput<L extends OutputLease = OutputLease> {
  /** The lease a batch of this partition commits with; `fresh`: re-read the group's offset before using it. */
  open(topic: string, partition: number): Promise<{ producer: L; fresh: boolean }>;
  commit(lease: L, output: TopicMessages[], nextOffset: string): Promise<void>;
  drop(topic: string, partition: number): Promise<void>;
  readonly partitions: string[];
  close(): Promise<void>;
}

/** Writing a batch's records or committing its offset failed; nothing is committed, the batch is read again. */
export class DeliveryFailedError extends TridentError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly step: 'produce' | 'changelog' | 'commit offsets',
    cause: unknown,
  ) {
    super(
      'DELIVERY_FAILED',
      `${topic}[${partition}]: at-least-once ${step} failed; the input offset was not committed, the batch is read again: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}

/** Produces one request's worth of records and resolves once the broker acknowledged all of them (acks=all). */
export type SendRecords = (records: TopicMessages[]) => Promise<void>;
/** Commits the consumer group's offset of one input partition. */
export type CommitOffset = (topic: string, partition: number, nextOffset: string) => Promise<void>;

export class AtLeastOnceOutput implements BatchOutput {
  constructor(
    private readonly send: SendRecords,
    private readonly commitOffset: CommitOffset,
    /** The dedup changelog topic (null when dedup is off): written after the results. */
    private readonly changelogTopic: string | null,
    private readonly closeProducer: () => Promise<void> = async () => undefined,
  ) {}

  /** No producer per partition: the lease only names the partition, and is never stale. */
  open(topic: string, partition: number): Promise<{ producer: OutputLease; fresh: boolean }> {
    return Promise.resolve({ producer: { topic, partition }, fresh: false });
  }

  /**
   * Results and dead letters (acknowledged), then the processed ids, then the input offset.
   * @throws DeliveryFailedError naming the step that failed; the offset is then not committed.
   */
  async commit(lease: OutputLease, output: TopicMessages[], nextOffset: string): Promise<void> {
    const { topic, partition } = lease;
    const started = performance.now();
    const records = output.filter((o) => o.topic !== this.changelogTopic);
    const changelog = output.filter((o) => o.topic === this.changelogTopic);
    await this.step(lease, 'produce', async () => {
      for (const chunk of chunkBySize(records, MAX_REQUEST_BYTES)) await this.send(chunk);
    });
    if (changelog.length > 0)
      await this.step(lease, 'changelog', async () => {
        for (const chunk of chunkBySize(changelog, MAX_REQUEST_BYTES)) await this.send(chunk);
      });
    await this.step(lease, 'commit offsets', () => this.commitOffset(topic, partition, nextOffset));
    commitSeconds.observe((performance.now() - started) / 1000);
  }

  drop(): Promise<void> {
    return Promise.resolve();
  }

  get partitions(): string[] {
    return [];
  }

  close(): Promise<void> {
    return this.closeProducer();
  }

  private async step(lease: OutputLease, step: DeliveryFailedError['step'], work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      throw new DeliveryFailedError(lease.topic, lease.partition, step, error);
    }
  }
}

/** The Kafka wiring: one idempotent producer (connected on first use) and the consumer's offset commit. */
export function atLeastOnceOutput(kafka: Kafka, commitOffset: CommitOffset, changelogTopic: string | null): AtLeastOnceOutput {
  let producer: Producer | null = null;
  let connecting: Promise<Producer> | null = null;
  const connected = () =>
    (connecting ??= (async () => {
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: defaultPartitioner,
        // As the transactional producers: unbounded retries keep idempotence (kafkajs retries only retriable errors).
        retry: { initialRetryTime: 5, multiplier: 1.5, maxRetryTime: 500, retries: Number.MAX_SAFE_INTEGER },
      });
      try {
        await p.connect();
      } catch (error) {
        connecting = null;
        throw error;
      }
      producer = p;
      return p;
    })());
  return new AtLeastOnceOutput(
    async (records) => {
      await (await connected()).sendBatch({ topicMessages: records, compression: CompressionTypes.None, acks: -1 });
    },
    commitOffset,
    changelogTopic,
    async () => {
      await (producer as Producer | null)?.disconnect().catch(() => undefined);
    },
  );
}
