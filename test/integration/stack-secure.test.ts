/**
 * `trident stack up --secure` on a private stack (its own ports and data dir; the shared stack keeps
 * serving the other tests): the broker refuses clients without credentials or with a wrong
 * password, and produce → serve → tail works with the `trident` user's settings.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../common/config';
import { createKafka } from '../../common/kafka';
import { secureClientEnv } from '../../stack/secure';
import { stackPaths } from '../../stack/stack';
import { cli, runCli, uniqueName } from './harness';
import { processorEnv } from './processor-harness';

const PORTS = { kafka: 39092, controller: 39093, registry: 38085 };

describe('trident stack up --secure (a private stack on other ports)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trident-secure-'));
  const stackEnv = {
    TRIDENT_STACK_DATA_DIR: dataDir,
    TRIDENT_STACK_KAFKA_PORT: String(PORTS.kafka),
    TRIDENT_STACK_CONTROLLER_PORT: String(PORTS.controller),
    TRIDENT_STACK_REGISTRY_PORT: String(PORTS.registry),
  };
  const brokers = [`127.0.0.1:${PORTS.kafka}`];
  const registryUrl = `http://127.0.0.1:${PORTS.registry}/apis/ccompat/v7`;
  let clientEnv: Record<string, string>;

  beforeAll(async () => {
    const up = await runCli(['stack', 'up', '--secure'], stackEnv);
    if (up.code !== 0) throw new Error(`stack up --secure failed:\n${up.stderr}`);
    clientEnv = {
      ...secureClientEnv(stackPaths(loadConfig({ env: stackEnv }))),
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: registryUrl,
    };
    expect(up.stderr).toContain(`TRIDENT_KAFKA_SASL_PASSWORD_FILE=${clientEnv.TRIDENT_KAFKA_SASL_PASSWORD_FILE}`);
    // The password itself is never printed.
    expect(up.stderr + up.stdout).not.toContain(readFileSync(clientEnv.TRIDENT_KAFKA_SASL_PASSWORD_FILE!, 'utf8').trim());
  }, 300_000);

  afterAll(async () => {
    await runCli(['stack', 'down', '--wipe'], stackEnv);
  }, 120_000);

  const describeCluster = async (kafka: Kafka) => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      return await admin.describeCluster();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
  const quiet = { logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 0 } };

  it('refuses a client without credentials, with TLS but no SASL, and with a wrong password', async () => {
    await expect(describeCluster(new Kafka({ brokers, ...quiet }))).rejects.toThrow();
    const ca = readFileSync(clientEnv.TRIDENT_KAFKA_SSL_CA_FILE!, 'utf8');
    await expect(describeCluster(new Kafka({ brokers, ssl: { ca: [ca] }, ...quiet }))).rejects.toThrow();
    const wrong = join(mkdtempSync(join(tmpdir(), 'trident-pw-')), 'wrong.password');
    writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
    const wrongConfig = loadConfig({ env: { ...clientEnv, TRIDENT_KAFKA_SASL_PASSWORD_FILE: wrong } });
    await expect(describeCluster(createKafka(wrongConfig, 'wrong-password', quiet))).rejects.toThrow(/SASL|authentication/i);
    // The right settings, through the same client factory, get in.
    const cluster = await describeCluster(createKafka(loadConfig({ env: clientEnv }), 'right-password', quiet));
    expect(cluster.brokers).toHaveLength(1);
  });

  it('produce → serve → tail works with the trident user’s settings', async () => {
    const base = uniqueName('it-secure');
    const env: NodeJS.ProcessEnv = { ...clientEnv, TRIDENT_TOPICS_PARTITIONS: '1' };
    for (const k of ['text', 'sentiment', 'entities', 'answers', 'categories', 'feedback', 'dlq', 'models'])
      env[`TRIDENT_TOPICS_${k.toUpperCase()}`] = `${base}.${k}`;
    const topics = await runCli(['topics', 'create'], env);
    expect(topics.code).toBe(0);
    const produced = await runCli(['produce', 'Ada Lovelace worked in London.', '--tasks', 'sentiment', '--key', 'secure-1'], env);
    expect(produced.code).toBe(0);
    const serve = spawn(process.execPath, [cli, 'serve'], {
      env: { ...process.env, ...processorEnv(env) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    serve.stdout.on('data', (d: Buffer) => (output += d.toString()));
    serve.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => serve.on('exit', (code) => resolve(code)));
    try {
      const tailed = await runCli(['tail', 'sentiment', '--from-beginning', '--follow', '--max', '1', '--timeout', '120'], env);
      expect(tailed.code).toBe(0);
      expect(JSON.parse(tailed.stdout.trim().split('\n')[0]!)).toMatchObject({ key: 'secure-1', label: expect.any(String) });
    } finally {
      serve.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).not.toContain(readFileSync(clientEnv.TRIDENT_KAFKA_SASL_PASSWORD_FILE!, 'utf8').trim());
  }, 240_000);

  it('a plain data dir cannot be turned secure (its cluster has no SCRAM users)', async () => {
    const plainEnv = { ...stackEnv, TRIDENT_STACK_DATA_DIR: mkdtempSync(join(tmpdir(), 'trident-plain-')) };
    // Pretend an earlier plain start formatted it.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(plainEnv.TRIDENT_STACK_DATA_DIR, 'kafka'), { recursive: true });
    writeFileSync(join(plainEnv.TRIDENT_STACK_DATA_DIR, 'kafka', 'meta.properties'), 'cluster.id=x\n');
    const result = await runCli(['stack', 'up', '--secure'], plainEnv);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/was created without --secure/);
  });
});
