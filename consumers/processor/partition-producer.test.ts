import {
  PartitionProducers,
  ProducerFencedError,
  StaleProducerError,
  TransactionFailedError,
  type Transaction,
} from './partition-producer';

/** A fake transactional producer: records commits, and fails where told. */
class FakeClient {
  static opened = 0;
  readonly id = ++FakeClient.opened;
  commits = 0;
  aborts = 0;
  disconnected = false;
  failCommitWith: unknown = null;
  /** kafkajs after a failed EndTxn: every later transaction() throws. */
  wedged = false;

  async transaction(): Promise<Transaction> {
    if (this.wedged) throw new Error('Transaction state exception: Cannot begin transaction in state COMMITTING');
    return {
      commit: async () => {
        if (this.failCommitWith) {
          this.wedged = true;
          throw this.failCommitWith;
        }
        this.commits += 1;
      },
      abort: async () => {
        if (this.wedged) throw new Error('cannot abort in state COMMITTING');
        this.aborts += 1;
      },
    };
  }

  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
}

function setup() {
  const clients: FakeClient[] = [];
  const producers = new PartitionProducers(async () => {
    const client = new FakeClient();
    clients.push(client);
    return client;
  });
  return { producers, clients };
}

const fenced = () => Object.assign(new Error('old epoch'), { type: 'INVALID_PRODUCER_EPOCH', code: 47 });

describe('PartitionProducers', () => {
  it('opens one producer per partition and reports when it is fresh', async () => {
    const { producers, clients } = setup();
    const first = await producers.open('t', 0);
    const again = await producers.open('t', 0);
    expect(first.fresh).toBe(true);
    expect(again.fresh).toBe(false);
    expect(again.producer).toBe(first.producer);
    await producers.transact(first.producer, async () => undefined);
    expect(clients).toHaveLength(1);
    expect(clients[0]!.commits).toBe(1);
  });

  it('refuses a batch consumed under a producer that was dropped and re-opened (revoked, then assigned back)', async () => {
    const { producers, clients } = setup();
    const { producer: lease } = await producers.open('t', 1);
    await producers.drop('t', 1); // revoked while the batch was in flight
    const { producer: reopened, fresh } = await producers.open('t', 1); // assigned back; a later batch opened the partition again
    expect(fresh).toBe(true);
    await expect(producers.transact(lease, async () => undefined)).rejects.toBeInstanceOf(StaleProducerError);
    expect(clients.map((c) => c.commits)).toEqual([0, 0]);
    await producers.transact(reopened, async () => undefined);
    expect(clients[1]!.commits).toBe(1);
  });

  it('refuses a dropped lease even when nothing re-opened the partition (never opens a producer for it)', async () => {
    const { producers, clients } = setup();
    const { producer: lease } = await producers.open('t', 2);
    await producers.drop('t', 2);
    await expect(producers.transact(lease, async () => undefined)).rejects.toMatchObject({
      code: 'PRODUCER_STALE',
      topic: 't',
      partition: 2,
    });
    expect(clients).toHaveLength(1);
  });

  it('discards a producer whose EndTxn failed; the next open initialises a new one', async () => {
    const { producers, clients } = setup();
    const { producer } = await producers.open('t', 0);
    clients[0]!.failCommitWith = Object.assign(new Error('coordinator load in progress'), {
      type: 'COORDINATOR_LOAD_IN_PROGRESS',
      code: 14,
    });
    const failure = producers.transact(producer, async () => undefined);
    await expect(failure).rejects.toBeInstanceOf(TransactionFailedError);
    expect(clients[0]!.disconnected).toBe(true);
    expect(producers.isCurrent(producer)).toBe(false);
    // The wedged producer is never used again: the same lease is refused, a new open gets a new producer.
    await expect(producers.transact(producer, async () => undefined)).rejects.toBeInstanceOf(StaleProducerError);
    const next = await producers.open('t', 0);
    expect(next.fresh).toBe(true);
    await producers.transact(next.producer, async () => undefined);
    expect(clients[1]!.commits).toBe(1);
  });

  it('classifies a fenced commit and discards that producer without aborting', async () => {
    const { producers, clients } = setup();
    const { producer } = await producers.open('t', 0);
    clients[0]!.failCommitWith = fenced();
    await expect(producers.transact(producer, async () => undefined)).rejects.toBeInstanceOf(ProducerFencedError);
    expect(clients[0]!.aborts).toBe(0);
    expect(clients[0]!.disconnected).toBe(true);
    expect((await producers.open('t', 0)).fresh).toBe(true);
  });

  it('aborts when the work fails before the commit, and still discards the producer', async () => {
    const { producers, clients } = setup();
    const { producer } = await producers.open('t', 0);
    await expect(producers.transact(producer, async () => Promise.reject(new Error('produce failed')))).rejects.toMatchObject({
      code: 'TRANSACTION_FAILED',
    });
    expect(clients[0]!.aborts).toBe(1);
    expect(producers.partitions).toEqual([]);
  });

  it('never hands out a producer that was dropped while it was opening', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const client = new FakeClient();
    const producers = new PartitionProducers(async () => {
      await gate;
      return client;
    });
    const opening = producers.open('t', 0);
    const dropping = producers.drop('t', 0); // revoked while InitProducerId is still running
    release();
    await dropping;
    await expect(opening).rejects.toBeInstanceOf(StaleProducerError);
    expect(client.disconnected).toBe(true);
  });
});
