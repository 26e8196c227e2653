/**
 * One typed configuration for every Trident process. Sources, later ones winning:
 * built-in defaults → a JSON file (`--config`, `TRIDENT_CONFIG`, or `./trident.config.json` when
 * present) → `TRIDENT_*` environment variables (`TRIDENT_KAFKA_BROKERS`, `TRIDENT_TOPICS_TEXT`, …;
 * the path in SCREAMING_SNAKE_CASE) → `KAFKA_BROKERS` / `SCHEMA_REGISTRY_URL`, the names tests and
 * other tools use. A bad value fails at start with the dotted key, where it came from and what was
 * expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors';

const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');
const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a Kafka topic name ([a-zA-Z0-9._-], at most 249 characters)');
const port = z.number().int().min(1).max(65535);

export const configSchema = z
  .object({
    kafka: z
      .object({
        brokers: z.array(hostPort).min(1).default(['127.0.0.1:9092']),
        clientId: z.string().min(1).default('trident'),
        connectionTimeoutMs: z.number().int().positive().default(10_000),
        requestTimeoutMs: z.number().int().positive().default(30_000),
      })
      .strict()
      .prefault({}),
    registry: z
      .object({
        url: z.url().default('http://127.0.0.1:8085/apis/ccompat/v7'),
      })
      .strict()
      .prefault({}),
    topics: z
      .object({
        text: topicName.default('trident.text'),
        sentiment: topicName.default('trident.sentiment'),
        entities: topicName.default('trident.entities'),
        answers: topicName.default('trident.answers'),
        categories: topicName.default('trident.categories'),
        feedback: topicName.default('trident.feedback'),
        dlq: topicName.default('trident.dlq'),
        models: topicName.default('trident.models'),
        partitions: z.number().int().min(1).max(10_000).default(6),
        replicationFactor: z.number().int().min(1).max(32).default(1),
      })
      .strict()
      .prefault({}),
    producer: z
      .object({
        maxTextBytes: z.number().int().positive().default(1_000_000),
        maxQuestions: z.number().int().min(0).default(16),
        maxQuestionChars: z.number().int().positive().default(1_000),
        compression: z.enum(['none', 'gzip']).default('gzip'),
        batchSize: z.number().int().positive().default(500),
      })
      .strict()
      .prefault({}),
    stack: z
      .object({
        /** Downloads (Kafka, the registry) are cached here, shared by every stack. */
        home: z.string().min(1).default(join(homedir(), '.cache', 'trident')),
        /** All of one stack's data (topics, schemas, logs, pids); `stack down --wipe` deletes it. Default: <home>/data. */
        dataDir: z.string().min(1).optional(),
        kafkaPort: port.default(9092),
        controllerPort: port.default(9093),
        registryPort: port.default(8085),
        kafkaHeapMb: z.number().int().min(128).default(512),
        registryHeapMb: z.number().int().min(128).default(256),
        startTimeoutMs: z.number().int().positive().default(120_000),
      })
      .strict()
      .prefault({}),
    model: z
      .object({
        /** The model artifact folder (see model/README.md); default: the released artifact, else the test artifact. */
        path: z.string().min(1).optional(),
        /**
         * `per-input`: every output depends on its input alone (int8 dynamic quantisation scales
         * activations per batch, so shared batches make outputs depend on neighbours); `mixed`:
         * inputs of a micro-batch share encoder batches, faster on short texts. See model/pipeline.ts.
         */
        batching: z.enum(['per-input', 'mixed']).default('per-input'),
        /** ONNX Runtime intra-op threads; 0 = one per CPU core. */
        threads: z.number().int().min(0).max(256).default(0),
      })
      .strict()
      .prefault({}),
    models: z
      .object({
        /** Where registered artifacts are copied (content-addressed): a folder path or a file:// URL. */
        store: z.string().min(1).default(join(homedir(), '.local', 'share', 'trident', 'models')),
        /** A promotion is refused when the candidate is worse than production on a shared metric by more than this many points. */
        gateTolerance: z.number().min(0).max(100).default(0.5),
        /** How long a promotion may take to load, verify and warm up in a processor before it is refused. */
        loadTimeoutMs: z.number().int().positive().default(120_000),
      })
      .strict()
      .prefault({}),
    processor: z
      .object({
        groupId: z.string().min(1).default('trident-processor'),
        /** Prefix of the transactional ids; one id per input partition (`<prefix>-<topic>-<partition>`). */
        transactionalIdPrefix: z.string().min(1).default('trident-processor'),
        defaultTasks: z.array(z.enum(['sentiment', 'entities', 'answers', 'categories'])).min(1).default(['sentiment', 'entities', 'answers', 'categories']),
        maxBatchEvents: z.number().int().min(1).default(32),
        maxBatchWaitMs: z.number().int().min(0).default(10),
        maxBatchTokens: z.number().int().min(1).default(8192),
        maxInFlightBatches: z.number().int().min(1).default(2),
        maxHeaderBytes: z.number().int().min(0).default(16_384),
        includeText: z.boolean().default(true),
        /** Stop when more than this share of a window of events is dead-lettered (a bad deploy, not bad input). */
        dlqMaxRatio: z.number().min(0).max(1).default(0.5),
        dlqWindowEvents: z.number().int().min(1).default(1000),
        metricsPort: z.number().int().min(0).max(65535).default(9464),
        /** Interface of /metrics; 0.0.0.0 in containers so Prometheus can reach it. */
        metricsHost: z.string().min(1).default('127.0.0.1'),
        /** How long the group waits for a silent member (a crashed process) before moving its partitions. */
        sessionTimeoutMs: z.number().int().min(6000).default(30_000),
      })
      .strict()
      .prefault({}),
    gateway: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8787),
        /** Where API tokens are stored (only their hashes). */
        tokensFile: z.string().min(1).default(join(homedir(), '.config', 'trident', 'tokens.json')),
        maxMessageBytes: z.number().int().min(1024).default(1_100_000),
        maxSubscriptionsPerSocket: z.number().int().min(1).default(32),
        maxSocketsPerToken: z.number().int().min(1).default(16),
        sendQueueMax: z.number().int().min(1).default(1000),
        /** A socket's send queue also holds at most this many bytes (results can be large). */
        sendQueueMaxBytes: z.number().int().min(1024).default(8_000_000),
        slowClientPolicy: z.enum(['lag', 'disconnect']).default('lag'),
        requestsPerMinutePerToken: z.number().int().min(1).default(600),
        heartbeatMs: z.number().int().min(100).default(30_000),
        maxWaitMs: z.number().int().min(0).default(30_000),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type TridentConfig = z.infer<typeof configSchema>;
export type TaskTopicName = 'sentiment' | 'entities' | 'answers' | 'categories';

/** Where each value came from, so an error can point at the environment variable or file. */
type Origin = Map<string, string>;

export interface LoadConfigOptions {
  /** Path of a JSON config file; default: `TRIDENT_CONFIG`, then `./trident.config.json` if present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values that win over everything else (CLI flags). */
  overrides?: Record<string, unknown>;
}

/**
 * Loads and validates the configuration. Synchronous; reads at most one file.
 * @throws ConfigError naming the first invalid key.
 */
export function loadConfig(options: LoadConfigOptions = {}): TridentConfig {
  const env = options.env ?? process.env;
  const origin: Origin = new Map();
  const raw: Record<string, unknown> = {};

  const file = options.file ?? env.TRIDENT_CONFIG ?? (existsSync('trident.config.json') ? 'trident.config.json' : undefined);
  if (file) {
    const path = resolve(file);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (cause) {
      throw new ConfigError('(file)', `cannot read ${path} as JSON: ${(cause as Error).message}`, { cause });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError('(file)', `${path} must hold a JSON object`);
    }
    mergeInto(raw, parsed as Record<string, unknown>, '', origin, path);
  }

  for (const [path, leaf] of leafSchemas(configSchema)) {
    const name = 'TRIDENT_' + path.map(toSnake).join('_');
    const value = env[name];
    if (value !== undefined) setPath(raw, path, parseEnvValue(value, leaf), origin, name);
  }
  if (env.KAFKA_BROKERS) setPath(raw, ['kafka', 'brokers'], splitList(env.KAFKA_BROKERS), origin, 'KAFKA_BROKERS');
  if (env.SCHEMA_REGISTRY_URL) setPath(raw, ['registry', 'url'], env.SCHEMA_REGISTRY_URL, origin, 'SCHEMA_REGISTRY_URL');
  if (options.overrides) mergeInto(raw, options.overrides, '', origin, 'command line');

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.join('.') || '(root)';
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (key === '(root)' ? k : `${key}.${k}`)) : [];
    const shownKey = unknownKeys[0] ?? key;
    const from = origin.get(shownKey);
    const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
    throw new ConfigError(shownKey, `${message}${from ? ` (from ${from})` : ''}`);
  }
  return result.data;
}

/** All topics Trident uses, from the config. */
export function allTopics(config: TridentConfig): string[] {
  const t = config.topics;
  return [t.text, t.sentiment, t.entities, t.answers, t.categories, t.feedback, t.dlq, t.models];
}

function toSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function parseEnvValue(value: string, leaf: z.ZodType): unknown {
  const kind = baseKind(leaf);
  if (kind === 'array') return splitList(value);
  if (kind === 'number') return value.trim() === '' ? value : Number(value);
  if (kind === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

function baseKind(schema: z.ZodType): string {
  let s: any = schema;
  while (s?._zod?.def && (s._zod.def.type === 'default' || s._zod.def.type === 'prefault' || s._zod.def.type === 'optional')) {
    s = s._zod.def.innerType;
  }
  return s?._zod?.def?.type ?? 'unknown';
}

function* leafSchemas(schema: z.ZodType, path: string[] = []): Generator<[string[], z.ZodType]> {
  let s: any = schema;
  while (s._zod.def.type === 'default' || s._zod.def.type === 'prefault') s = s._zod.def.innerType;
  if (s._zod.def.type === 'object') {
    for (const [key, child] of Object.entries(s._zod.def.shape as Record<string, z.ZodType>)) {
      yield* leafSchemas(child, [...path, key]);
    }
  } else {
    yield [path, schema];
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown, origin: Origin, from: string): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  origin.set(path.join('.'), from);
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>, prefix: string, origin: Origin, from: string): void {
  for (const [key, value] of Object.entries(source)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      mergeInto(target[key] as Record<string, unknown>, value as Record<string, unknown>, dotted, origin, from);
    } else {
      target[key] = value;
      origin.set(dotted, from);
    }
  }
}
