/**
 * One typed configuration for every Trident process. Sources, later ones winning:
 * built-in defaults → the model's older environment names (ENV_FALLBACKS: `TRIDENT_MODEL_DIR`,
 * `TRIDENT_ORT_SPINNING=1`, `TRIDENT_NO_SIMD=1`) → a JSON file (`--config`, `TRIDENT_CONFIG`, or
 * `./trident.config.json` when present) → `TRIDENT_*` environment variables (`TRIDENT_KAFKA_BROKERS`,
 * `TRIDENT_TOPICS_TEXT`, …; the path in SCREAMING_SNAKE_CASE) → `KAFKA_BROKERS` /
 * `SCHEMA_REGISTRY_URL` (ENV_OVERRIDES), the names tests and other tools use. A bad value fails at
 * start with the dotted key, where it came from and what was expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors';
import { builtInTasks } from './tasks';

const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port');
const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a Kafka topic name ([a-zA-Z0-9._-], at most 249 characters)');
const port = z.number().int().min(1).max(65535);
/** A duration as text (`24h`, `30m`, `90s`, `500ms`, `0s`); parsed by parseDuration. */
const duration = (message: string) => z.string().refine((v) => /^(\d+(\.\d+)?)\s*(ms|s|m|h|d)$/.test(v.trim()), message);

export const configSchema = z
  .object({
    kafka: z
      .object({
        brokers: z.array(hostPort).min(1).default(['127.0.0.1:9092']),
        clientId: z.string().min(1).default('trident'),
        connectionTimeoutMs: z.number().int().positive().default(10_000),
        requestTimeoutMs: z.number().int().positive().default(30_000),
        /**
         * SASL authentication. The password comes from `passwordFile` or the environment
         * (TRIDENT_KAFKA_SASL_PASSWORD); there is no command-line flag for it, and it is never logged.
         */
        sasl: z
          .object({
            mechanism: z.enum(['none', 'scram-sha-512']).default('none'),
            username: z.string().min(1).optional(),
            password: z.string().min(1).optional(),
            passwordFile: z.string().min(1).optional(),
          })
          .strict()
          .prefault({})
          .superRefine((sasl, ctx) => {
            if (sasl.mechanism === 'none') return;
            if (!sasl.username) ctx.addIssue({ code: 'custom', path: ['username'], message: `required with mechanism ${sasl.mechanism}` });
            if (!sasl.password === !sasl.passwordFile)
              ctx.addIssue({
                code: 'custom',
                path: ['password'],
                message: 'give exactly one of kafka.sasl.password (TRIDENT_KAFKA_SASL_PASSWORD) or kafka.sasl.passwordFile',
              });
          }),
        /** TLS to the brokers: the CA that signed their certificates, and a client certificate when they require one. */
        ssl: z
          .object({
            enabled: z.boolean().default(false),
            caFile: z.string().min(1).optional(),
            certFile: z.string().min(1).optional(),
            keyFile: z.string().min(1).optional(),
            /** Check the broker's certificate chain and host name (turn off only for a throwaway test broker). */
            rejectUnauthorized: z.boolean().default(true),
          })
          .strict()
          .prefault({})
          .superRefine((ssl, ctx) => {
            if (!ssl.certFile !== !ssl.keyFile)
              ctx.addIssue({
                code: 'custom',
                path: [ssl.certFile ? 'keyFile' : 'certFile'],
                message: 'a client certificate needs both certFile and keyFile',
              });
          }),
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
        /** The learner's state (`trident learn`): a compacted topic, one record per example key, written with its offsets in one transaction. */
        learnChangelog: topicName.default('trident.learn.changelog'),
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
        /** How long one batch is retried (through broker restarts) before `trident produce` gives up, like librdkafka's delivery.timeout.ms. */
        deliveryTimeoutMs: z.number().int().positive().default(120_000),
      })
      .strict()
      .prefault({}),
    stack: z
      .object({
        /** Downloads (Kafka, the registry) are cached here, shared by every stack. */
        home: z
          .string()
          .min(1)
          .default(join(homedir(), '.cache', 'trident')),
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
        /** The model artifact folder (see model/README.md); default: the released artifact, else the test artifact. Also $TRIDENT_MODEL_DIR. */
        path: z.string().min(1).optional(),
        /**
         * `per-input`: a batch holds one input's rows, so every output depends on its input alone
         * even with int8 dynamic quantisation (which scales activations per batch tensor); `mixed`:
         * inputs of a micro-batch share encoder batches, faster on short texts. Default (unset): the
         * artifact's — `mixed` when its manifest says its quantisation is batch-independent (static
         * int8), else `per-input`. See model/pipeline.ts.
         */
        batching: z.enum(['per-input', 'mixed']).optional(),
        /** ONNX Runtime intra-op threads per encoder session; 0 = the CPU cores ÷ `sessions` (at least 1). */
        threads: z.number().int().min(0).max(256).default(0),
        /**
         * Encoder sessions, each in its own worker thread, batches to the least busy (see
         * model/encoder.ts EncoderPool); each costs one more copy of the session's memory. 0 = by
         * the batching (model/pipeline.ts defaultSessions): one per core, at most 4, for
         * `per-input`; one for `mixed`.
         */
        sessions: z.number().int().min(0).max(64).default(0),
        /** Let ORT's threads busy-wait between ops (lower latency on an idle machine, see model/RUNTIME.md). Also $TRIDENT_ORT_SPINNING=1. */
        ortSpinning: z.boolean().default(false),
        /** The WebAssembly SIMD kernel for the heads where the runtime has it; false = plain JavaScript. Also $TRIDENT_NO_SIMD=1. */
        simd: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    models: z
      .object({
        /** Where registered artifacts are copied (content-addressed): a folder path or a file:// URL. */
        store: z
          .string()
          .min(1)
          .default(join(homedir(), '.local', 'share', 'trident', 'models')),
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
        defaultTasks: z
          .array(z.enum(builtInTasks))
          .min(1)
          .default([...builtInTasks]),
        maxBatchEvents: z.number().int().min(1).default(32),
        maxBatchWaitMs: z.number().int().min(0).default(10),
        /**
         * `adaptive`: wait up to maxBatchWaitMs for a micro-batch to fill only while one is in flight
         * (an idle encoder gets each event at once); `fixed`: always wait up to maxBatchWaitMs.
         */
        batchWait: z.enum(['adaptive', 'fixed']).default('adaptive'),
        /**
         * `exactly-once`: results, dead letters and the input offsets commit in one transaction
         * (read_committed readers see each result once). `at-least-once`: an idempotent producer
         * writes them and the offsets are committed after their acks; no transaction, no marker
         * delay for readers, but a crash can repeat results (they carry the event id: dedupe by it).
         */
        delivery: z.enum(['exactly-once', 'at-least-once']).default('exactly-once'),
        maxBatchTokens: z.number().int().min(1).default(8192),
        maxInFlightBatches: z.number().int().min(1).default(2),
        /** Most estimated encoder tokens one event may cost (text passes + one text window pass per question); more is dead-lettered as TOKEN_BUDGET_EXCEEDED. */
        maxEventTokens: z.number().int().min(1).default(100_000),
        maxHeaderBytes: z.number().int().min(0).default(16_384),
        includeText: z.boolean().default(true),
        /** Stop when more than this share of a window of events is dead-lettered (a bad deploy, not bad input). */
        dlqMaxRatio: z.number().min(0).max(1).default(0.5),
        dlqWindowEvents: z.number().int().min(1).default(1000),
        /**
         * An event whose (tenant, id) was processed within this window gets no second result
         * (DUPLICATE_ID in the DLQ): `24h`, `30m`, `90s`; `0s` turns it off. Kept per input partition in
         * memory and in a compacted changelog topic, so it survives restarts and rebalances.
         */
        dedupWindow: z
          .string()
          .refine((v) => /^(\d+(\.\d+)?)\s*(ms|s|m|h|d)$/.test(v.trim()), 'expected a duration like 24h, 30m, 90s or 0s')
          .default('24h'),
        /** Most ids remembered per input partition (memory bound); beyond it the oldest are forgotten first. */
        dedupMaxIdsPerPartition: z.number().int().min(1).default(500_000),
        /** The changelog topic of processed ids (default: `<groupId>-processed-ids`). */
        dedupTopic: topicName.optional(),
        /** A partition batch that keeps failing at the same offset stops the processor after this many retries (BATCH_RETRIES_EXHAUSTED). */
        maxBatchRetries: z.number().int().min(0).default(10),
        /** Port of /metrics, /healthz, /readyz; 0: any free port. A port in use falls back to a free one (with a warning). */
        metricsPort: z.number().int().min(0).max(65535).default(9464),
        /** Directory of Prometheus file_sd target files, one per running processor (default: <stack.home>/prometheus-targets). */
        metricsTargetsDir: z.string().min(1).optional(),
        /** Interface of /metrics; 0.0.0.0 in containers so Prometheus can reach it. */
        metricsHost: z.string().min(1).default('127.0.0.1'),
        /** How long the group waits for a silent member (a crashed process) before moving its partitions. */
        sessionTimeoutMs: z.number().int().min(6000).default(30_000),
      })
      .strict()
      .prefault({}),
    learn: z
      .object({
        /** The learner's consumer group on the feedback topic; also its transactional id (a second learner of the group fences the first). */
        groupId: z.string().min(1).default('trident-learner'),
        /** Train after this many newly accepted (or changed) examples since the last training. */
        minNewExamples: z.number().int().min(1).default(200),
        /** Train at least this often while there are new examples: `1h`, `30m`, `90s`. */
        interval: duration('expected a duration like 1h, 30m or 90s').default('1h'),
        /** A head with fewer training examples per label than this is not trained (the learner says so). */
        minExamplesPerLabel: z.number().int().min(1).default(8),
        /** Promote a registered candidate when the registry's gate passes (a refusal is logged, not fatal). */
        autoPromote: z.boolean().default(false),
        /** Encoder features per (encoder digest, text hash), computed once. */
        featureCacheDir: z
          .string()
          .min(1)
          .default(join(homedir(), '.cache', 'trident', 'features')),
        /** Size bound of the feature cache in bytes (oldest entries go first). */
        featureCacheBytes: z
          .number()
          .int()
          .min(0)
          .default(2 * 1024 ** 3),
        /** Dev-split data evaluated with each candidate. Unset: ../shared/data beside the checkout when it exists; null: none. */
        evalDataDir: z.string().min(1).nullable().optional(),
        /** Most epochs per head (early stopping on the held-back split usually ends sooner). */
        maxEpochs: z.number().int().min(1).default(30),
        /** Candidate artifacts are built under here (default: <stack.home>/learn). */
        stateDir: z.string().min(1).optional(),
        /** Port of the learner's /metrics; 0: any free port. A port in use falls back to a free one. */
        metricsPort: z.number().int().min(0).max(65535).default(9465),
        metricsHost: z.string().min(1).default('127.0.0.1'),
      })
      .strict()
      .prefault({}),
    gateway: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8787),
        /** Where API tokens are stored (only their hashes). */
        tokensFile: z
          .string()
          .min(1)
          .default(join(homedir(), '.config', 'trident', 'tokens.json')),
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
        /** TCP connections at once, HTTP and WebSocket together; Node closes new ones above it. */
        maxConnections: z.number().int().min(1).default(20_000),
        /** WebSocket sockets at once (new upgrades get 503 above it). */
        maxSockets: z.number().int().min(1).default(10_000),
        /** WebSocket sockets that have not authenticated yet (waiting for an `auth` message). */
        maxUnauthenticatedSockets: z.number().int().min(1).default(256),
        /** Time for a client to send a request's headers, and its whole request (body included). */
        headersTimeoutMs: z.number().int().min(1000).default(10_000),
        requestTimeoutMs: z.number().int().min(1000).default(30_000),
        /** An idle keep-alive HTTP connection is closed after this. */
        keepAliveTimeoutMs: z.number().int().min(100).default(5_000),
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
export type ModelConfig = TridentConfig['model'];

/** A short environment name for one key; `value` turns the variable into the key's value. */
interface EnvAlias {
  name: string;
  path: string[];
  value: (raw: string) => unknown;
}
const isOn = (raw: string): boolean => raw === '1' || raw === 'true';
/** Names the model read before it had config keys; anything else (the file, `TRIDENT_MODEL_*`) wins over them. */
const ENV_FALLBACKS: readonly EnvAlias[] = [
  { name: 'TRIDENT_MODEL_DIR', path: ['model', 'path'], value: (raw) => raw },
  { name: 'TRIDENT_ORT_SPINNING', path: ['model', 'ortSpinning'], value: isOn },
  { name: 'TRIDENT_NO_SIMD', path: ['model', 'simd'], value: (raw) => !isOn(raw) },
];
/** Names that win over everything but the command line. */
const ENV_OVERRIDES: readonly EnvAlias[] = [
  { name: 'KAFKA_BROKERS', path: ['kafka', 'brokers'], value: splitList },
  { name: 'SCHEMA_REGISTRY_URL', path: ['registry', 'url'], value: (raw) => raw },
];

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
  applyAliases(raw, env, origin, ENV_FALLBACKS);

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

  applyEnv(raw, env, origin);
  if (options.overrides) mergeInto(raw, options.overrides, '', origin, 'command line');
  return parseOrThrow(configSchema, raw, origin, []);
}

/**
 * The `model` section from the environment alone (`TRIDENT_MODEL_*` and the short names), for code
 * that runs without a loaded config: `trident predict`, benchmarks, tests. The processor passes its
 * loaded config's values instead.
 * @throws ConfigError naming the first invalid key.
 */
export function modelConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ModelConfig {
  const origin: Origin = new Map();
  const raw: Record<string, unknown> = {};
  applyAliases(raw, env, origin, ENV_FALLBACKS);
  applyEnv(raw, env, origin);
  return parseOrThrow(configSchema.shape.model, raw.model ?? {}, origin, ['model']);
}

/** Sets every `TRIDENT_*` variable, then ENV_OVERRIDES, present in `env` into `raw`. */
function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, origin: Origin): void {
  for (const [path, leaf] of leafSchemas(configSchema)) {
    const name = 'TRIDENT_' + path.map(toSnake).join('_');
    const value = env[name];
    if (value !== undefined) setPath(raw, path, parseEnvValue(value, leaf), origin, name);
  }
  applyAliases(raw, env, origin, ENV_OVERRIDES);
}

function applyAliases(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, origin: Origin, aliases: readonly EnvAlias[]): void {
  for (const alias of aliases) {
    const value = env[alias.name];
    if (value) setPath(raw, alias.path, alias.value(value), origin, alias.name);
  }
}

function parseOrThrow<T>(schema: z.ZodType<T>, raw: unknown, origin: Origin, prefix: string[]): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = [...prefix, ...issue.path].join('.') || '(root)';
  const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (key === '(root)' ? k : `${key}.${k}`)) : [];
  const shownKey = unknownKeys[0] ?? key;
  const from = origin.get(shownKey);
  const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
  throw new ConfigError(shownKey, `${message}${from ? ` (from ${from})` : ''}`);
}

/** All topics Trident uses, from the config. */
export function allTopics(config: TridentConfig): string[] {
  const t = config.topics;
  return [t.text, t.sentiment, t.entities, t.answers, t.categories, t.feedback, t.dlq, t.models];
}

/**
 * Every environment variable the loader reads for a config key (`TRIDENT_KAFKA_BROKERS`, …), in
 * schema order; for deployment files that render config as environment variables.
 */
export function configEnvNames(): string[] {
  return [...leafSchemas(configSchema)].map(([path]) => 'TRIDENT_' + path.map(toSnake).join('_'));
}

function toSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function parseEnvValue(value: string, leaf: z.ZodType): unknown {
  const kind = baseKind(leaf);
  if (kind === 'array') return splitList(value);
  if (kind === 'number') return value.trim() === '' ? value : Number(value);
  if (kind === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/** The few members of zod's internal definition that the walks below read. */
interface ZodNode {
  _zod: { def: { type: string; innerType?: ZodNode; shape?: Record<string, z.ZodType> } };
}

function baseKind(schema: z.ZodType): string {
  let s = schema as unknown as ZodNode | undefined;
  while (s?._zod?.def && (s._zod.def.type === 'default' || s._zod.def.type === 'prefault' || s._zod.def.type === 'optional')) {
    s = s._zod.def.innerType;
  }
  return s?._zod?.def?.type ?? 'unknown';
}

function* leafSchemas(schema: z.ZodType, path: string[] = []): Generator<[string[], z.ZodType]> {
  let s = schema as unknown as ZodNode;
  while (s._zod.def.type === 'default' || s._zod.def.type === 'prefault') s = s._zod.def.innerType!;
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
