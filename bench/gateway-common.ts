/** Shared helpers of the gateway benchmarks: own topics, a gateway child process, RSS sampling, percentiles. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { ensureTopics, topicSpecs } from '../common/topics';
import { topicKinds } from '../schemas/catalog';
import { TokenStore } from '../gateway/tokens';

export const repoRoot = join(__dirname, '..', '..');

/** `--name value` arguments into a map. */
export function args(argv = process.argv.slice(2)): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++)
    if (argv[i]!.startsWith('--'))
      out.set(argv[i]!.slice(2), argv[i + 1]?.startsWith('--') || argv[i + 1] === undefined ? 'true' : argv[++i]!);
  return out;
}

export interface BenchGateway {
  config: TridentConfig;
  tokens: TokenStore;
  child: ChildProcess;
  pid: number;
  http: string;
  ws: string;
  stop(): Promise<void>;
}

/** Creates unique topics and starts `trident gateway` (dist/) on them as a child process. */
export async function startGatewayProcess(prefix: string, gatewayEnv: Record<string, string> = {}): Promise<BenchGateway> {
  const base = `bench-${prefix}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const tokensFile = join(mkdtempSync(join(tmpdir(), 'trident-bench-')), 'tokens.json');
  const env: Record<string, string> = {
    TRIDENT_TOPICS_PARTITIONS: '3',
    TRIDENT_GATEWAY_TOKENS_FILE: tokensFile,
    TRIDENT_GATEWAY_PORT: '0',
    TRIDENT_LOG_LEVEL: 'warn',
    ...gatewayEnv,
  };
  for (const k of topicKinds) env[`TRIDENT_TOPICS_${k.toUpperCase()}`] = `${base}.${k}`;
  const fullEnv = { ...process.env, ...env };
  const config = loadConfig({ env: fullEnv });
  const admin = createKafka(config, 'trident-bench').admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(config));
  await admin.disconnect();

  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'trident.js'), 'gateway'], {
    env: fullEnv,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  // A benchmark that fails half way must not leave its gateway behind.
  process.once('exit', () => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${buffered}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const m = /listening on (http:\/\/[^\s/]+\/)/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`gateway exited with ${code}: ${buffered}`)));
  });
  child.stderr!.on('data', (d: Buffer) => {
    const line = d.toString();
    if (/"level":(50|60)/.test(line)) process.stderr.write(`[gateway] ${line}`);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${url}readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error('gateway not ready in 60 s');
    await sleep(200);
  }
  return {
    config,
    tokens: new TokenStore(tokensFile),
    child,
    pid: child.pid!,
    http: url.replace(/\/$/, ''),
    ws: url.replace(/^http/, 'ws') + 'v1/ws',
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resident set size of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU time (user + system) a process used so far, in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Reads one counter (summed over labels) from /metrics. */
export async function metricSum(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}
