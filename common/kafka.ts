/** The one place that builds kafkajs clients from config, so every stage connects the same way. */
import { Kafka, logLevel, Partitioners, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { TridentConfig } from './config';
import { assertReadCommittedFilter } from './kafkajs-filter';
import { stageLogger } from './logger';

const kafkaLevels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** @throws KafkajsUnpatchedError when kafkajs was installed without its read_committed fix (see common/kafkajs-filter.ts). */
export function createKafka(config: TridentConfig, clientId = config.kafka.clientId, overrides: Partial<KafkaConfig> = {}): Kafka {
  assertReadCommittedFilter();
  const log = stageLogger('kafkajs');
  return new Kafka({
    clientId,
    brokers: config.kafka.brokers,
    connectionTimeout: config.kafka.connectionTimeoutMs,
    requestTimeout: config.kafka.requestTimeoutMs,
    // kafkajs logs INFO chatter on every join and commit; keep WARN and above.
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        // kafkajs logs every failed protocol response at ERROR, even the retriable ones it then
        // retries (coordinator loading, CONCURRENT_TRANSACTIONS); a real failure reaches the caller as
        // a thrown error anyway.
        // "Failed to send messages: … not the leader" right after a topic is created is the same: the
        // producer refreshes its metadata and retries (retryCount 0 is the first of those retries).
        const retried = level === logLevel.ERROR && (message.startsWith('Response ') || (message.startsWith('Failed to send messages') && (rest as { retryCount?: number }).retryCount === 0));
        log[retried ? 'debug' : (kafkaLevels[level] ?? 'info')](rest, message);
      },
    ...overrides,
  });
}

/** kafkajs warns about its partitioner change unless one is passed explicitly. */
export const defaultPartitioner = Partitioners.DefaultPartitioner;
