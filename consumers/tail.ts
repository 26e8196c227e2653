/**
 * `trident tail`: decodes any Trident topic to JSON lines. Without `follow` it reads up to the end
 * the topic had when it started and stops; `max` and `timeout` bound it either way. Reads only
 * committed transactions unless told otherwise. Joins no shared group and commits nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { TridentConfig } from '../common/config';
import { EventCodec, toPlain } from '../schemas/codec';
import { topicKinds, type TopicKind } from '../schemas/catalog';
import { InvalidMessageError } from '../common/errors';

export interface TailOptions {
  topic: string;
  fromBeginning?: boolean;
  follow?: boolean;
  max?: number;
  timeoutSeconds?: number;
  readUncommitted?: boolean;
  /** Include topic/partition/offset/key with each record. */
  withMeta?: boolean;
}

export interface TailRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: unknown;
  error?: { code: string; reason: string };
}

/** Accepts a topic kind (`sentiment`) or a full topic name (`trident.sentiment`). */
export function resolveTopic(config: TridentConfig, topic: string): { topic: string; kind: TopicKind | undefined } {
  if ((topicKinds as readonly string[]).includes(topic)) return { topic: config.topics[topic as TopicKind], kind: topic as TopicKind };
  const kind = topicKinds.find((k) => config.topics[k] === topic);
  return { topic, kind };
}

/** Streams records to `emit` (which may return true to stop); resolves with how many it emitted. */
export async function tail(
  kafka: Kafka,
  codec: EventCodec,
  config: TridentConfig,
  options: TailOptions,
  emit: (record: TailRecord) => boolean | void,
  kindOverride?: TopicKind,
): Promise<number> {
  const { topic, kind: resolvedKind } = resolveTopic(config, options.topic);
  const kind = kindOverride ?? resolvedKind;
  if (!kind)
    throw new Error(`unknown topic ${JSON.stringify(options.topic)}: name one of ${topicKinds.join(', ')} or a configured topic name`);

  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }

  const consumer = kafka.consumer({
    groupId: `trident-tail-${randomUUID()}`,
    readUncommitted: options.readUncommitted ?? false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
  });
  const positions = new Map<number, bigint>();
  let emitted = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const reachedEnd = () => {
    if (options.follow) return false;
    for (const [partition, end] of ends) {
      const start = 0n;
      if (end > start && (positions.get(partition) ?? -1n) < end) return false;
    }
    return true;
  };
  const atLimit = () => options.max !== undefined && emitted >= options.max;

  // END_BATCH_PROCESS fires for batches of only control records too (transaction markers), which
  // eachMessage never sees; it is how we know a partition's end was reached.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const next = BigInt(payload.lastOffset) + 1n;
    if (next > (positions.get(payload.partition) ?? -1n)) positions.set(payload.partition, next);
    if (reachedEnd()) finish();
  });

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? false });
  if (!options.fromBeginning && !options.follow) {
    // Reading "to the end" from the end is nothing; without --from-beginning, tail means follow new records.
    options.follow = true;
  }
  const timer = options.timeoutSeconds !== undefined ? setTimeout(() => finish(), options.timeoutSeconds * 1000) : undefined;

  await consumer.run({
    eachMessage: async ({ topic: t, partition, message }) => {
      if (atLimit()) return;
      const origin = { topic: t, partition, offset: message.offset };
      const record: TailRecord = {
        topic: t,
        partition,
        offset: message.offset,
        key: message.key ? message.key.toString('utf8') : null,
        value: null,
      };
      try {
        record.value = toPlain(await codec.decode(kind, message.value, origin));
      } catch (error) {
        if (!(error instanceof InvalidMessageError)) throw error;
        record.error = { code: error.code, reason: error.reason };
      }
      emitted += 1;
      if (emit(record) === true || atLimit()) finish();
    },
  });
  if (reachedEnd()) finish();
  try {
    await finished;
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect();
  }
  return emitted;
}
