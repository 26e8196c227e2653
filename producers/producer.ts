/**
 * The typed Trident producer: idempotent, keyed, compressed, batched. Encodes events through the
 * schema registry and sends them to the topic of their kind.
 */
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import type { TridentConfig } from '../common/config';
import { defaultPartitioner } from '../common/kafka';
import { producedEvents } from '../common/metrics';
import { EventCodec, type EventTypes } from '../schemas/codec';
import type { TopicKind } from '../schemas/catalog';

export interface OutgoingEvent<K extends TopicKind> {
  kind: K;
  event: EventTypes[K];
  key?: string | null;
  headers?: Record<string, string>;
}

export class TridentProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly codec: EventCodec,
    private readonly config: TridentConfig,
  ) {
    // Idempotence makes broker-side retries safe: no duplicates, order kept per partition.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, createPartitioner: defaultPartitioner });
  }

  async connect(): Promise<void> {
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
  }

  /** Encodes and sends events, grouped per topic in one request. Resolves when the broker acknowledged all. */
  async send<K extends TopicKind>(events: Array<OutgoingEvent<K>>): Promise<void> {
    if (events.length === 0) return;
    await this.connect();
    const byTopic = new Map<string, Message[]>();
    for (const item of events) {
      const topic = this.config.topics[item.kind];
      const value = await this.codec.encode(item.kind, item.event);
      const message: Message = { key: item.key ?? null, value, headers: item.headers };
      const list = byTopic.get(topic) ?? [];
      list.push(message);
      byTopic.set(topic, list);
    }
    const compression = this.config.producer.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    await this.producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), compression, acks: -1 });
    for (const [topic, messages] of byTopic) producedEvents.inc({ topic }, messages.length);
  }

  async disconnect(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
    this.connected = false;
  }
}

/** The key a text event is partitioned by: its explicit key, else its id (spreads load, keeps an id on one partition). */
export function keyOf(event: { key?: string | null; id: string }): string {
  return event.key ?? event.id;
}
