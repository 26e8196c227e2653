/**
 * The one place that builds kafkajs clients from config, so every stage connects the same way —
 * including SASL/SCRAM and TLS when `kafka.sasl` / `kafka.ssl` ask for them.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, Partitioners, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { TridentConfig } from './config';
import { assertReadCommittedFilter } from './kafkajs-filter';
import { ConfigError } from './errors';
import { stageLogger } from './logger';

/** Reads a file a config key names; the error names the key and the file, never the content. */
function readConfigFile(key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(key, `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
}

/**
 * The TLS and SASL options of `config.kafka` for kafkajs (undefined when off). Reads the CA,
 * certificate, key and password files now. @throws ConfigError naming the key of an unreadable file.
 */
export function kafkaSecurity(kafka: TridentConfig['kafka']): { ssl?: ConnectionOptions; sasl?: SASLOptions } {
  const out: { ssl?: ConnectionOptions; sasl?: SASLOptions } = {};
  if (kafka.ssl.enabled) {
    const ssl: ConnectionOptions = { rejectUnauthorized: kafka.ssl.rejectUnauthorized };
    if (kafka.ssl.caFile) ssl.ca = [readConfigFile('kafka.ssl.caFile', kafka.ssl.caFile)];
    if (kafka.ssl.certFile && kafka.ssl.keyFile) {
      ssl.cert = readConfigFile('kafka.ssl.certFile', kafka.ssl.certFile);
      ssl.key = readConfigFile('kafka.ssl.keyFile', kafka.ssl.keyFile);
    }
    out.ssl = ssl;
  }
  if (kafka.sasl.mechanism === 'scram-sha-512') {
    const password = kafka.sasl.password ?? readConfigFile('kafka.sasl.passwordFile', kafka.sasl.passwordFile!).trim();
    out.sasl = { mechanism: 'scram-sha-512', username: kafka.sasl.username!, password };
  }
  return out;
}

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
    ...kafkaSecurity(config.kafka),
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
        const retried =
          level === logLevel.ERROR &&
          (message.startsWith('Response ') ||
            (message.startsWith('Failed to send messages') && (rest as { retryCount?: number }).retryCount === 0));
        log[retried ? 'debug' : (kafkaLevels[level] ?? 'info')](rest, message);
      },
    ...overrides,
  });
}

/** kafkajs warns about its partitioner change unless one is passed explicitly. */
export const defaultPartitioner = Partitioners.DefaultPartitioner;
