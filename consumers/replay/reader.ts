/**
 * Reads a resolved offset range of one topic, read_committed, in fetch batches. Joins a fresh
 * throwaway group (kafkajs needs one to fetch), seeks each partition to its start, commits nothing,
 * and stops once every partition reached its end (or the handler says stop).
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import type { Bound, PartitionOffsets, PartitionRange, ResolvedRange } from './range';
import { resolveRange } from './range';

export interface RangeRecord {
  partition: number;
  message: KafkaMessage;
}

/** Looks up the topic's offsets and the offsets of time bounds, then resolves the range (see resolveRange). */
export async function lookupRange(
  admin: Admin,
  topic: string,
  bounds: { from?: Bound; to?: Bound; partitions?: number[] },
): Promise<ResolvedRange> {
  const offsets: PartitionOffsets[] = (await admin.fetchTopicOffsets(topic)).map((o) => ({
    partition: o.partition,
    low: BigInt(o.low),
    high: BigInt(o.high),
  }));
  const atTime = async (bound?: Bound): Promise<Map<number, bigint> | undefined> => {
    if (bound?.kind !== 'time') return undefined;
    const found = await admin.fetchTopicOffsetsByTimestamp(topic, bound.ms);
    // Kafka answers -1 (or the high offset) when no record is at or after the time: nothing from there.
    const high = new Map(offsets.map((o) => [o.partition, o.high]));
    return new Map(found.map((o) => [o.partition, BigInt(o.offset) < 0n ? high.get(o.partition)! : BigInt(o.offset)]));
  };
  return resolveRange(topic, offsets, bounds, { from: await atTime(bounds.from), to: await atTime(bounds.to) });
}

/**
 * Calls `handle` with each fetched batch's records inside the range, in offset order per partition;
 * `handle` returns true to stop early. `heartbeat` keeps the group alive during long model calls.
 * Resolves when done. Throws what kafkajs throws (broker unreachable, topic unknown).
 */
export async function readRange(
  kafka: Kafka,
  topic: string,
  range: ResolvedRange,
  handle: (records: RangeRecord[], heartbeat: () => Promise<void>) => Promise<boolean>,
): Promise<void> {
  const ranges = new Map<number, PartitionRange>(range.partitions.map((p) => [p.partition, p]));
  const positions = new Map<number, bigint>(range.partitions.map((p) => [p.partition, p.start]));
  const finishedAll = (): boolean => [...ranges.values()].every((r) => positions.get(r.partition)! >= r.end);
  const consumer = kafka.consumer({
    groupId: `trident-replay-${randomUUID()}`,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
    // A model call on a large batch can take seconds; the handler heartbeats between chunks.
    sessionTimeout: 60_000,
  });
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let stopped = false;
  // END_BATCH_PROCESS also fires for batches of only control records (transaction markers), which
  // eachBatch may never see: it is how a partition whose last records are markers reaches its end.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const next = BigInt(payload.lastOffset) + 1n;
    if (next > (positions.get(payload.partition) ?? -1n)) positions.set(payload.partition, next);
    if (finishedAll()) finish();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        if (stopped) return;
        const r = ranges.get(batch.partition);
        if (!r || r.start >= r.end) {
          consumer.pause([{ topic, partitions: [batch.partition] }]); // not in the range
          return;
        }
        const records = batch.messages
          .filter((m) => BigInt(m.offset) >= r.start && BigInt(m.offset) < r.end)
          .map((message) => ({ partition: batch.partition, message }));
        if (records.length > 0 && (await handle(records, heartbeat))) {
          stopped = true;
          finish();
        }
        if (BigInt(batch.lastOffset()) + 1n >= r.end) consumer.pause([{ topic, partitions: [batch.partition] }]);
      },
    });
    for (const r of range.partitions) consumer.seek({ topic, partition: r.partition, offset: String(r.start) });
    if (finishedAll()) finish();
    await finished;
  } finally {
    await consumer.disconnect();
  }
}
