/**
 * `trident produce` across a broker restart, on a private stack on other ports (the shared one keeps
 * serving the other tests): every line is delivered exactly once; and when the broker stays away
 * longer than the delivery timeout, the summary says what was acknowledged and how to resume.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, createTestTopics, privateStack, runCli, testConfig, type CliResult } from './harness';
import { countIds, readTopic } from './processor-harness';

const PORTS = { kafka: 49092, controller: 49093, registry: 48085 };

/** SIGKILLs the private stack's broker (its whole process group), as a crash would. */
export function killBroker(dataDir: string): void {
  const pid = Number(readFileSync(join(dataDir, 'run', 'kafka.pid'), 'utf8'));
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
}

function produceInBackground(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'produce', ...args], {
      env: { ...process.env, ...env, TRIDENT_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function writeLines(count: number, prefix: string): { file: string; ids: string[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'trident-produce-')), 'events.jsonl');
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  writeFileSync(
    file,
    ids.map((id, i) => JSON.stringify({ id, text: `Line ${i} survives a broker restart.`, tasks: ['sentiment'] })).join('\n') + '\n',
  );
  return { file, ids };
}

describe('trident produce across a broker restart (private stack)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trident-produce-stack-'));
  const { stackEnv, clientEnv } = privateStack(PORTS, dataDir);

  beforeAll(async () => {
    const up = await runCli(['stack', 'up'], stackEnv);
    if (up.code !== 0) throw new Error(`private stack did not start:\n${up.stderr}`);
  });

  afterAll(async () => {
    await runCli(['stack', 'down', '--wipe'], stackEnv);
  });

  it('rides out a SIGKILLed and restarted broker: every line exactly once', async () => {
    const { config, env } = testConfig('produce-restart', {
      kafka: { brokers: [clientEnv.KAFKA_BROKERS] },
      registry: { url: clientEnv.SCHEMA_REGISTRY_URL },
    });
    const privateEnv = { ...env, ...clientEnv };
    await createTestTopics(config);
    const { file, ids } = writeLines(2000, 'restart');
    const producing = produceInBackground(['--file', file, '--no-progress', '--rate', '200/s'], privateEnv);
    await new Promise((r) => setTimeout(r, 3000));
    killBroker(dataDir);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await runCli(['stack', 'up'], stackEnv)).code).toBe(0);
    const result = await producing;
    expect(result.stderr).toContain('not acknowledged yet');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/sent 2000, rejected 0/);
    const counts = countIds(await readTopic<{ id: string }>(config, 'text', ids.length, { timeoutMs: 60_000 }));
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(counts.size).toBe(ids.length);
  });

  it('past the delivery timeout: says what was acknowledged and how to resume; resuming delivers the rest', async () => {
    const { config, env } = testConfig('produce-timeout', {
      kafka: { brokers: [clientEnv.KAFKA_BROKERS] },
      registry: { url: clientEnv.SCHEMA_REGISTRY_URL },
    });
    const privateEnv = { ...env, ...clientEnv };
    await createTestTopics(config);
    const { file, ids } = writeLines(1000, 'timeout');
    const producing = produceInBackground(['--file', file, '--no-progress', '--rate', '200/s', '--delivery-timeout', '8000'], privateEnv);
    await new Promise((r) => setTimeout(r, 2000));
    killBroker(dataDir);
    const failed = await producing;
    expect(failed.code).not.toBe(0);
    const resume = /--from-line (\d+)/.exec(failed.stderr);
    expect(failed.stderr).toMatch(/acknowledged: \d+ events, every line through \d+/);
    expect(resume).not.toBeNull();
    const from = Number(resume![1]);
    expect((await runCli(['stack', 'up'], stackEnv)).code).toBe(0);
    const resumed = await runCli(['produce', '--file', file, '--no-progress', '--from-line', String(from)], privateEnv);
    expect(resumed.code).toBe(0);
    const counts = countIds(await readTopic<{ id: string }>(config, 'text', ids.length, { timeoutMs: 60_000 }));
    // Nothing lost; an acknowledged line is never sent twice (only the in-flight range could be).
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    expect(ids.slice(0, from - 1).filter((id) => counts.get(id)! > 1)).toEqual([]);
  });
});
