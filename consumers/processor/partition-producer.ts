/**
 * Transactional producers per input partition, handed out as leases. A partition batch takes the
 * lease of the producer open when it was consumed and commits only through that lease:
 *
 * - a lease whose producer was dropped (partition revoked) or replaced since is stale: its commit is
 *   refused (the batch may already have been processed by another owner in between);
 * - any failure inside a transaction (produce, sendOffsets, EndTxn commit or abort) discards the
 *   producer: kafkajs can leave it in a state where every later transaction throws, and a fenced one
 *   is useless. The next batch of the partition opens a new producer, whose initialisation bumps the
 *   epoch (fencing the old one and aborting what it left open), and must then re-read the group's
 *   offset, because the failed commit may have reached the broker after all.
 *
 * Pure of Kafka: the producer is opened through an injected function, so this is tested with fakes.
 */
import { TridentError } from '../../common/errors';
import { isProducerFenced } from '../../common/kafka-errors';

export interface Transaction {
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface TransactionalClient<T extends Transaction> {
  transaction(): Promise<T>;
  disconnect(): Promise<void>;
}

/** Opens and initialises a producer for one input partition (InitProducerId: fences any older instance). */
export type OpenTransactionalClient<T extends Transaction> = (topic: string, partition: number) => Promise<TransactionalClient<T>>;

/** Another member took over this partition's transactional id (or the coordinator expired our transaction). */
export class ProducerFencedError extends TridentError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    cause: unknown,
  ) {
    super(
      'PRODUCER_FENCED',
      `${topic}[${partition}]: producer fenced (another instance initialised this partition's transactional id, or the transaction timed out); the batch was not committed`,
      { cause },
    );
  }
}

/** The batch was consumed under a producer that has since been dropped or replaced; committing it could repeat another owner's work. */
export class StaleProducerError extends TridentError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly generation: number,
  ) {
    super(
      'PRODUCER_STALE',
      `${topic}[${partition}]: the producer this batch was consumed with (generation ${generation}) was dropped or replaced; the batch was not committed`,
    );
  }
}

/** A transaction failed for another reason (broker restart, coordinator moved, …); it was aborted or never committed. */
export class TransactionFailedError extends TridentError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    cause: unknown,
  ) {
    super(
      'TRANSACTION_FAILED',
      `${topic}[${partition}]: transaction failed and the producer was discarded: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}

/** One opened producer of one input partition. Compared by identity: a batch keeps the lease it was consumed with. */
export class PartitionProducer<T extends Transaction> {
  discarded = false;
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly generation: number,
    readonly client: TransactionalClient<T>,
  ) {}
}

export class PartitionProducers<T extends Transaction> {
  private readonly current = new Map<string, Promise<PartitionProducer<T>>>();
  private readonly settled = new Map<string, PartitionProducer<T>>();
  private generation = 0;

  constructor(private readonly openClient: OpenTransactionalClient<T>) {}

  /**
   * The partition's current producer, opened when there is none. `fresh` is true when this call
   * opened it: the caller must then re-read the group's offset before using it.
   */
  async open(topic: string, partition: number): Promise<{ producer: PartitionProducer<T>; fresh: boolean }> {
    const key = `${topic}-${partition}`;
    const existing = this.current.get(key);
    if (existing) return { producer: await existing, fresh: false };
    const generation = ++this.generation;
    const opening = this.openClient(topic, partition).then((client) => new PartitionProducer(topic, partition, generation, client));
    this.current.set(key, opening);
    try {
      const producer = await opening;
      if (this.current.get(key) === opening) this.settled.set(key, producer);
      else {
        // Dropped while opening (revoked): never hand it out.
        producer.discarded = true;
        await producer.client.disconnect().catch(() => undefined);
        throw new StaleProducerError(topic, partition, generation);
      }
      return { producer, fresh: true };
    } catch (error) {
      if (this.current.get(key) === opening) this.current.delete(key);
      throw error;
    }
  }

  /** True while `producer` is still the partition's open producer. */
  isCurrent(producer: PartitionProducer<T>): boolean {
    return !producer.discarded && this.settled.get(`${producer.topic}-${producer.partition}`) === producer;
  }

  /**
   * Runs `work` in one transaction of `producer` and commits it.
   * @throws StaleProducerError (nothing was sent), ProducerFencedError or TransactionFailedError
   * (the producer is discarded in both cases).
   */
  async transact(producer: PartitionProducer<T>, work: (transaction: T) => Promise<void>): Promise<void> {
    if (!this.isCurrent(producer)) throw new StaleProducerError(producer.topic, producer.partition, producer.generation);
    let transaction: T | null = null;
    try {
      transaction = await producer.client.transaction();
      await work(transaction);
      await transaction.commit();
    } catch (error) {
      const fenced = isProducerFenced(error);
      // A fenced producer cannot abort (the new owner's initialisation aborts for it). Otherwise try,
      // but whatever happens the producer is discarded: its state after a failed EndTxn is unknown.
      if (!fenced && transaction) await transaction.abort().catch(() => undefined);
      await this.discard(producer);
      throw fenced
        ? new ProducerFencedError(producer.topic, producer.partition, error)
        : new TransactionFailedError(producer.topic, producer.partition, error);
    }
  }

  /** Discards `producer` if it is still current (a later one is left alone). */
  async discard(producer: PartitionProducer<T>): Promise<void> {
    producer.discarded = true;
    const key = `${producer.topic}-${producer.partition}`;
    if (this.settled.get(key) === producer) {
      this.settled.delete(key);
      this.current.delete(key);
    }
    await producer.client.disconnect().catch(() => undefined);
  }

  /** Discards the partition's producer, opened or still opening (revoked partitions). */
  async drop(topic: string, partition: number): Promise<void> {
    const key = `${topic}-${partition}`;
    const opening = this.current.get(key);
    this.current.delete(key);
    this.settled.delete(key);
    const producer = await opening?.catch(() => null);
    if (producer) {
      producer.discarded = true;
      await producer.client.disconnect().catch(() => undefined);
    }
  }

  /** Partitions with a producer, as `topic-partition` keys. */
  get partitions(): string[] {
    return [...this.current.keys()];
  }

  async close(): Promise<void> {
    await Promise.all(
      this.partitions.map((key) => {
        const cut = key.lastIndexOf('-');
        return this.drop(key.slice(0, cut), Number(key.slice(cut + 1)));
      }),
    );
  }
}
