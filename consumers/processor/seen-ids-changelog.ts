/**
 * The changelog of processed ids: a compacted topic (one record per (tenant, id), keyed by it, value
 * = when it was processed as an 8-byte big-endian ms timestamp) with the input topic's partition
 * count. A partition batch writes its processed ids to the same partition number in the same
 * transaction as its results, so the changelog holds exactly the committed ids. A member that gets a
 * partition reads that changelog partition back (read_committed) before its first batch; records
 * older than the window are expired by the topic's retention and skipped on restore.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Message } from 'kafkajs';
import type { Logger } from 'pino';
import type { SeenIds } from './seen-ids';

export function changelogRecord(partition: number, key: string, at: number): Message {
  const value = Buffer.alloc(8);
  value.writeBigInt64BE(BigInt(at));
  return { partition, key, value };
}

/** Creates the changelog topic when missing (compacted, retention = the window). */
export async function ensureChangelog(
  admin: Admin,
  topic: string,
  partitions: number,
  replicationFactor: number,
  windowMs: number,
): Promise<void> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return;
  await admin
    .createTopics({
      // kafkajs's own wait fails on UNKNOWN_TOPIC_OR_PARTITION while the new topic propagates; wait below.
      waitForLeaders: false,
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact,delete' },
            { name: 'retention.ms', value: String(Math.max(windowMs, 60_000)) },
          ],
        },
      ],
    })
    .catch((error: unknown) => {
      if (!String((error as Error).message).includes('already exists')) throw error;
    });
  for (let attempt = 1; ; attempt++) {
    try {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      if (meta && meta.partitions.length === partitions && meta.partitions.every((p) => p.leader >= 0)) return;
    } catch (error) {
      if (attempt >= 60) throw error;
    }
    if (attempt >= 60) throw new Error(`changelog topic ${topic} has no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Restores partitions of the changelog into `seen`. Requests arriving together (a rebalance hands
 * over several partitions at once) share one reader. kafkajs has no manual assignment, so the reader
 * is a consumer of a throwaway group that keeps only the requested partitions and stops at their end.
 */
export class ChangelogRestorer {
  private waiting = new Map<number, Array<{ resolve: () => void; reject: (e: unknown) => void }>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: () => Promise<Admin>,
    private readonly topic: string,
    private readonly seen: SeenIds,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  restore(partition: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(partition) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(partition, list);
      this.timer ??= setTimeout(() => void this.run(), 50);
    });
  }

  private async run(): Promise<void> {
    this.timer = null;
    const requests = this.waiting;
    this.waiting = new Map();
    const partitions = [...requests.keys()];
    try {
      const count = await this.read(partitions);
      this.log.info({ topic: this.topic, partitions, ids: count }, 'processed ids restored from the changelog');
      for (const list of requests.values()) for (const r of list) r.resolve();
    } catch (error) {
      for (const list of requests.values()) for (const r of list) r.reject(error);
    }
  }

  private async read(partitions: number[]): Promise<number> {
    const admin = await this.admin();
    const offsets = await admin.fetchTopicOffsets(this.topic);
    // Read up to the end as of now: our producer for each partition is initialised, so no
    // transaction of a previous owner is still open there (the end is stable).
    const ends = new Map(
      offsets.filter((o) => partitions.includes(o.partition) && BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]),
    );
    for (const p of partitions) this.seen.forget(p);
    if (ends.size === 0) return 0;
    let restored = 0;
    const consumer = this.kafka.consumer({
      groupId: `trident-changelog-restore-${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
    });
    const done = new Promise<void>((resolve, reject) => {
      const reached = (partition: number, lastOffset: string) => {
        const end = ends.get(partition);
        if (end !== undefined && BigInt(lastOffset) + 1n >= end) ends.delete(partition);
        if (ends.size === 0) resolve();
      };
      // Batches of only control records or aborted messages never reach eachBatch; this event does.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => reached(payload.partition, payload.lastOffset));
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      void consumer
        .connect()
        .then(() => consumer.subscribe({ topic: this.topic, fromBeginning: true }))
        .then(() =>
          consumer.run({
            eachBatch: async ({ batch }) => {
              if (!ends.has(batch.partition)) return;
              const now = this.now();
              for (const message of batch.messages) {
                if (!message.key || !message.value || message.value.length !== 8) continue;
                this.seen.record(batch.partition, [message.key.toString()], Number(message.value.readBigInt64BE()), now);
                restored += 1;
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
    return restored;
  }
}
