/** Helpers for integration tests: per-test topics, config pointing at the shared broker, the CLI. */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig, type TridentConfig } from '../../common/config';
import { createKafka } from '../../common/kafka';
import { ensureTopics, topicSpecs } from '../../common/topics';
import { topicKinds, type TopicKind } from '../../schemas/catalog';

export const repoRoot = join(__dirname, '..', '..');
export const stateFile = join(repoRoot, 'test-output', 'integration-stack.json');
export const cli = join(repoRoot, 'bin', 'trident.js');

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A config whose every topic is new and unique to the calling test. */
export function testConfig(prefix: string, overrides: Record<string, unknown> = {}): { config: TridentConfig; env: NodeJS.ProcessEnv } {
  const base = uniqueName(`it-${prefix}`);
  const topics = Object.fromEntries(topicKinds.map((k) => [k, `${base}.${k}`])) as Record<TopicKind, string>;
  const env: NodeJS.ProcessEnv = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    SCHEMA_REGISTRY_URL: process.env.SCHEMA_REGISTRY_URL,
    TRIDENT_TOPICS_PARTITIONS: '3',
  };
  for (const k of topicKinds) env[`TRIDENT_TOPICS_${k.toUpperCase()}`] = topics[k];
  const config = loadConfig({ env, overrides });
  return { config, env };
}

export async function createTestTopics(config: TridentConfig): Promise<void> {
  const admin = createKafka(config, 'trident-test').admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicSpecs(config));
  } finally {
    await admin.disconnect();
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `trident` binary (dist/) with the test's environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, ...env, TRIDENT_LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.end(input);
  });
}

/** Environment of a private stack on its own ports and data directory (`stackEnv` for `trident stack`, `clientEnv` for clients). */
export function privateStack(
  ports: { kafka: number; controller: number; registry: number },
  dataDir: string,
): { stackEnv: NodeJS.ProcessEnv; clientEnv: { KAFKA_BROKERS: string; SCHEMA_REGISTRY_URL: string } } {
  return {
    stackEnv: {
      TRIDENT_STACK_DATA_DIR: dataDir,
      TRIDENT_STACK_KAFKA_PORT: String(ports.kafka),
      TRIDENT_STACK_CONTROLLER_PORT: String(ports.controller),
      TRIDENT_STACK_REGISTRY_PORT: String(ports.registry),
    },
    clientEnv: { KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`, SCHEMA_REGISTRY_URL: `http://127.0.0.1:${ports.registry}/apis/ccompat/v7` },
  };
}
