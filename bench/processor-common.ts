/** Shared helpers of the processor benchmarks: a private set of topics, a `trident serve` child, a results reader. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { loadConfig, type TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { ensureTopics, topicSpecs } from '../common/topics';
import { EventCodec } from '../schemas/codec';
import { topicKinds, type TopicKind } from '../schemas/catalog';
import { stackUp, localStackOverrides } from '../stack/stack';
import type { TextEvent } from '../schemas/generated/text';

import { builtInTasks } from '../common/tasks';
const QUESTIONS = ['What is the review about?', 'Who is it about?', 'What did the critic think?'];
const repoRoot = path.resolve(__dirname, '..', '..');

/** A config on the local stack (started if needed) whose topics are unique to this run. */
export async function benchConfig(partitions: number): Promise<{ config: TridentConfig; env: NodeJS.ProcessEnv }> {
  const base = loadConfig();
  if (!process.env.KAFKA_BROKERS) await stackUp(base);
  const prefix = `bench-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
  const env: NodeJS.ProcessEnv = { TRIDENT_TOPICS_PARTITIONS: String(partitions), TRIDENT_LOG_LEVEL: 'warn' };
  for (const kind of topicKinds) env[`TRIDENT_TOPICS_${kind.toUpperCase()}`] = `${prefix}.${kind}`;
  if (process.env.KAFKA_BROKERS) env.KAFKA_BROKERS = process.env.KAFKA_BROKERS;
  if (process.env.SCHEMA_REGISTRY_URL) env.SCHEMA_REGISTRY_URL = process.env.SCHEMA_REGISTRY_URL;
  const config = loadConfig({ env: { ...process.env, ...env }, overrides: process.env.KAFKA_BROKERS ? {} : localStackOverrides(base) });
  const admin = createKafka(config, 'bench').admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(config));
  await admin.disconnect();
  await EventCodec.fromConfig(config).registerAll();
  if (!process.env.KAFKA_BROKERS) {
    env.KAFKA_BROKERS = config.kafka.brokers.join(',');
    env.SCHEMA_REGISTRY_URL = config.registry.url;
  }
  return { config, env };
}

export function benchEvents(texts: string[], tag: string): TextEvent[] {
  const now = Date.now();
  return texts.map((text, i) => ({
    id: `${tag}-${i}`,
    text,
    tasks: [...builtInTasks],
    questions: [QUESTIONS[i % 3]!],
    key: null,
    tenant: null,
    metadata: {},
    createdAt: now,
  }));
}

export interface Serve {
  child: ChildProcess;
  metrics: () => Promise<Map<string, number>>;
  stop: () => Promise<void>;
}

/** Starts `trident serve` (dist) with the bench's topics and settings; resolves once it consumes. */
export async function startServe(env: NodeJS.ProcessEnv, settings: Record<string, string>, metricsPort: number): Promise<Serve> {
  const groupId = `bench-${randomUUID().slice(0, 8)}`;
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'trident.js'), 'serve'], {
    env: {
      ...process.env,
      ...env,
      TRIDENT_PROCESSOR_GROUP_ID: groupId,
      TRIDENT_PROCESSOR_TRANSACTIONAL_ID_PREFIX: groupId,
      TRIDENT_PROCESSOR_METRICS_PORT: String(metricsPort),
      ...settings,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('trident serve: consuming')) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`trident serve exited (${code}):\n${output}`));
    });
  });
  return {
    child,
    metrics: async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const values = new Map<string, number>();
      for (const line of text.split('\n')) {
        if (line.startsWith('#') || !line.trim()) continue;
        const at = line.lastIndexOf(' ');
        values.set(line.slice(0, at), Number(line.slice(at + 1)));
      }
      return values;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Counts results (read_committed unless told otherwise) on the four task topics from their current end; `onResult` gets
 * each result's id, task and receive time. Resolves once it fetches (its start offsets are fixed).
 */
export async function listenResults(
  config: TridentConfig,
  onResult: (id: string, task: TopicKind, receivedAt: number, createdAt: number, processedAt: number) => void,
  options: { readUncommitted?: boolean } = {},
): Promise<() => Promise<void>> {
  const kafka = createKafka(config, 'bench-reader');
  const codec = EventCodec.fromConfig(config);
  const consumer = kafka.consumer({
    groupId: `bench-reader-${randomUUID()}`,
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 5,
    minBytes: 1,
  });
  // The first fetch comes after the start offsets were resolved: from then on no new result is missed
  // (joining the group is too early, records written before the resolution would be skipped).
  const fetching = new Promise<void>((resolve) => consumer.on(consumer.events.FETCH, () => resolve()));
  const kindOf = new Map<string, TopicKind>(builtInTasks.map((k) => [config.topics[k], k]));
  await consumer.connect();
  await consumer.subscribe({ topics: builtInTasks.map((k) => config.topics[k]), fromBeginning: false });
  await consumer.run({
    partitionsConsumedConcurrently: 16,
    eachMessage: async ({ topic, message }) => {
      const receivedAt = Date.now();
      const kind = kindOf.get(topic)!;
      const result = (await codec.decode(kind, message.value)) as { id: string; createdAt: number; processedAt: number };
      onResult(result.id, kind, receivedAt, result.createdAt, result.processedAt);
    },
  });
  await fetching;
  return () => consumer.disconnect();
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
