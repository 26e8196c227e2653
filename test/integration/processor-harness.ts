/** Helpers for processor tests: run `trident serve` as a child process, read result topics fully. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { TridentConfig } from '../../common/config';
import { createKafka } from '../../common/kafka';
import { EventCodec } from '../../schemas/codec';
import type { TopicKind } from '../../schemas/catalog';
import { cli, repoRoot, uniqueName } from './harness';

export const testArtifact = join(repoRoot, 'model', 'test-artifact');

/** Environment for a processor of one test: its topics, its own group and transactional ids, the tiny test model. */
export function processorEnv(env: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const id = uniqueName('proc');
  return {
    ...env,
    TRIDENT_MODEL_PATH: testArtifact,
    TRIDENT_PROCESSOR_GROUP_ID: id,
    TRIDENT_PROCESSOR_TRANSACTIONAL_ID_PREFIX: id,
    TRIDENT_PROCESSOR_METRICS_PORT: '0',
    TRIDENT_LOG_LEVEL: 'info',
    ...extra,
  };
}

export interface ServeProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Sends SIGTERM and waits; a non-zero exit fails with the process's output. */
export async function stopServe(serve: ServeProcess): Promise<void> {
  serve.child.kill('SIGTERM');
  const code = await serve.exited;
  if (code !== 0) throw new Error(`trident serve exited with ${code} after SIGTERM; its output:\n${serve.output().slice(-4000)}`);
}

/** Starts `trident serve`; resolves once it consumes. */
export async function startServe(env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trident serve did not start in 60 s:\n${output}`)), 60_000);
    const check = setInterval(() => {
      if (output.includes('trident serve: consuming')) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`trident serve exited (${code}) before consuming:\n${output}`));
    });
  });
  return { child, output: () => output, exited };
}

/**
 * Reads a topic from the beginning with read_committed until `expected` records arrived and then
 * `settleMs` more passed with nothing new (to catch duplicates), or until `timeoutMs`.
 */
export async function readTopic<T = Record<string, unknown>>(
  config: TridentConfig,
  kind: TopicKind,
  expected: number,
  options: { settleMs?: number; timeoutMs?: number } = {},
): Promise<T[]> {
  const { settleMs = 1500, timeoutMs = 120_000 } = options;
  const kafka = createKafka(config, 'trident-test-reader');
  const codec = EventCodec.fromConfig(config);
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  const records: T[] = [];
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic: config.topics[kind], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      records.push((await codec.decode(kind, message.value)) as T);
      last = Date.now();
    },
  });
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (records.length >= expected && Date.now() - last >= settleMs) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();
  return records;
}

/** Counts of each id, to find losses and duplicates in one pass. */
export function countIds(records: Array<{ id: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  return counts;
}

export function exactlyOnce(
  counts: Map<string, number>,
  expectedIds: Iterable<string>,
): { missing: string[]; duplicated: string[]; unexpected: string[] } {
  const expected = new Set(expectedIds);
  return {
    missing: [...expected].filter((id) => !counts.has(id)),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    unexpected: [...counts.keys()].filter((id) => !expected.has(id)),
  };
}
