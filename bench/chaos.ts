/**
 * `npm run chaos`: N events through two `trident serve` processes on a PRIVATE stack (its own data
 * directory and ports, so the shared stack is never touched) while the processors are SIGKILLed,
 * the broker is SIGKILLed and restarted twice and the registry restarted once, from one
 * `trident produce` that rides out all of it. Then every task topic is read from the beginning
 * (read_committed) and the lost/duplicated ids per task are printed, with the time each fault took
 * to recover (fault → first result processed after it).
 *
 *   node dist/bench/chaos.js [--events 3000] [--duration 120] [--model <dir>] [--ports 49192,49193,48185] [--logs <dir>]
 * (--logs: keep each process's output there, processors at log level info)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig, type TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { ensureTopics, topicSpecs } from '../common/topics';
import { EventCodec } from '../schemas/codec';
import { topicKinds } from '../schemas/catalog';
import { stackDown, stackPaths, stackUp, localStackOverrides } from '../stack/stack';
import { builtInTasks as ALL_TASKS } from '../common/tasks';

const repoRoot = path.resolve(__dirname, '..', '..');
const cli = path.join(repoRoot, 'bin', 'trident.js');

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

interface Child {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
}

function start(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { name, child, output: () => output, exited };
}

async function startServe(name: string, env: NodeJS.ProcessEnv): Promise<Child> {
  const serve = start(name, ['serve'], env);
  const started = Date.now();
  while (!serve.output().includes('trident serve: consuming')) {
    if (serve.child.exitCode !== null || Date.now() - started > 120_000)
      throw new Error(`${name} did not start:\n${serve.output().slice(-3000)}`);
    await sleep(50);
  }
  return serve;
}

function killGroup(pidFile: string): void {
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
}

/** Reads the four task topics from the beginning (read_committed) until nothing new arrives for `settleMs`. */
async function countAll(
  config: TridentConfig,
  expected: number,
  settleMs: number,
  timeoutMs: number,
): Promise<{ counts: Record<string, Map<string, number>>; processedAt: number[] }> {
  const kafka = createKafka(config, 'chaos-count');
  const codec = EventCodec.fromConfig(config);
  const counts: Record<string, Map<string, number>> = Object.fromEntries(ALL_TASKS.map((t) => [t, new Map<string, number>()]));
  const kindOf = new Map<string, (typeof ALL_TASKS)[number]>(ALL_TASKS.map((k) => [config.topics[k], k]));
  const consumer = kafka.consumer({ groupId: `chaos-count-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  let last = Date.now();
  let total = 0;
  const processedAt: number[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: ALL_TASKS.map((k) => config.topics[k]), fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 16,
    eachMessage: async ({ topic, message }) => {
      const kind = kindOf.get(topic)!;
      const result = (await codec.decode(kind, message.value)) as { id: string; processedAt: number };
      const id = result.id;
      if (kind === 'sentiment') processedAt.push(result.processedAt);
      counts[kind]!.set(id, (counts[kind]!.get(id) ?? 0) + 1);
      total += 1;
      last = Date.now();
    },
  });
  const started = Date.now();
  while (Date.now() - started < timeoutMs && !(total >= expected && Date.now() - last > settleMs)) await sleep(200);
  await consumer.disconnect();
  return { counts, processedAt };
}

async function main(): Promise<void> {
  const events = Number(arg('events', '3000'));
  const durationS = Number(arg('duration', '120'));
  const [kafkaPort, controllerPort, registryPort] = arg('ports', '49192,49193,48185').split(',').map(Number);
  const model = arg('model', path.join(repoRoot, 'model', 'test-artifact'));
  const logsDir = arg('logs', '');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'trident-chaos-'));
  const stackEnv: NodeJS.ProcessEnv = {
    TRIDENT_STACK_DATA_DIR: dataDir,
    TRIDENT_STACK_KAFKA_PORT: String(kafkaPort),
    TRIDENT_STACK_CONTROLLER_PORT: String(controllerPort),
    TRIDENT_STACK_REGISTRY_PORT: String(registryPort),
  };
  const stackConfig = loadConfig({ env: stackEnv });
  const paths = stackPaths(stackConfig);
  const prefix = `chaos-${Date.now().toString(36)}`;
  const env: NodeJS.ProcessEnv = {
    ...stackEnv,
    TRIDENT_TOPICS_PARTITIONS: '6',
    TRIDENT_LOG_LEVEL: 'warn',
    KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${registryPort}/apis/ccompat/v7`,
  };
  for (const kind of topicKinds) env[`TRIDENT_TOPICS_${kind.toUpperCase()}`] = `${prefix}.${kind}`;
  const config = loadConfig({ env: { ...process.env, ...env }, overrides: localStackOverrides(stackConfig) });
  const restartStack = async () => {
    await stackUp(stackConfig);
  };

  say(
    `private stack in ${dataDir} on ports ${kafkaPort}/${controllerPort}/${registryPort}; ${events} events over ~${durationS} s; model ${model}`,
  );
  await stackUp(stackConfig, say);
  const children: Child[] = [];
  try {
    const admin = createKafka(config, 'chaos').admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs(config));
    await admin.disconnect();
    await EventCodec.fromConfig(config).registerAll();

    const file = path.join(dataDir, 'events.jsonl');
    const ids = Array.from({ length: events }, (_, i) => `${prefix}-${i}`);
    writeFileSync(
      file,
      ids
        .map((id, i) =>
          JSON.stringify({
            id,
            text: `Chaos event ${i}: Maria in Lisboa loved the café, the refund is late.`,
            questions: ['Who loved the café?'],
          }),
        )
        .join('\n') + '\n',
    );

    const group = `${prefix}-group`;
    const serveEnv = {
      ...env,
      TRIDENT_MODEL_PATH: model,
      TRIDENT_PROCESSOR_GROUP_ID: group,
      TRIDENT_PROCESSOR_TRANSACTIONAL_ID_PREFIX: group,
      TRIDENT_PROCESSOR_METRICS_PORT: '0',
      TRIDENT_PROCESSOR_SESSION_TIMEOUT_MS: '6000',
      TRIDENT_PROCESSOR_METRICS_TARGETS_DIR: path.join(dataDir, 'targets'),
      TRIDENT_LOG_LEVEL: logsDir ? 'info' : 'warn',
    };
    const serves = [await startServe('processor-a', serveEnv), await startServe('processor-b', serveEnv)];
    children.push(...serves);

    const rate = Math.max(10, Math.ceil(events / durationS));
    const started = Date.now();
    const producer = start('producer', ['produce', '--file', file, '--no-progress', '--rate', `${rate}/s`], {
      ...env,
      TRIDENT_LOG_LEVEL: 'warn',
    });
    children.push(producer);

    const faults: Array<{ at: number; name: string; run: () => Promise<void> }> = [];
    const killed = new Set<Child>();
    // Results each live processor committed so far (its /metrics); the poll notes when any count grows.
    const committedBy = async (serve: Child) => {
      const port = /metrics on :(\d+)/.exec(serve.output())?.[1];
      const text = port
        ? await fetch(`http://127.0.0.1:${port}/metrics`)
            .then((r) => r.text())
            .catch(() => '')
        : '';
      return Number(/^trident_processor_results_total\{task="sentiment"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const lastCount = new Map<number, number>();
    let lastGrowth = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const now = Date.now();
        for (const serve of [...serves]) {
          const count = await committedBy(serve);
          if (count > (lastCount.get(serve.child.pid!) ?? 0)) lastGrowth = now;
          lastCount.set(serve.child.pid!, count);
        }
        await sleep(250);
      }
    })();
    const processedSince = (at: number) => (lastGrowth > at ? 1 : 0);
    const killServe = (index: number) => async () => {
      const victim = serves[index]!;
      killed.add(victim);
      victim.child.kill('SIGKILL');
      await victim.exited;
      serves[index] = await startServe(victim.name, serveEnv);
      children.push(serves[index]!);
    };
    const share = (f: number) => Math.round(durationS * 1000 * f);
    faults.push({ at: share(0.1), name: 'SIGKILL processor-a (restarted at once)', run: killServe(0) });
    faults.push({
      at: share(0.22),
      name: 'SIGKILL broker, restart after 3 s',
      run: async () => {
        killGroup(path.join(paths.run, 'kafka.pid'));
        await sleep(3000);
        await restartStack();
      },
    });
    faults.push({ at: share(0.42), name: 'SIGKILL processor-b (restarted at once)', run: killServe(1) });
    faults.push({
      at: share(0.55),
      name: 'SIGKILL broker, restart after 3 s',
      run: async () => {
        killGroup(path.join(paths.run, 'kafka.pid'));
        await sleep(3000);
        await restartStack();
      },
    });
    faults.push({
      at: share(0.72),
      name: 'SIGKILL registry, restart',
      run: async () => {
        killGroup(path.join(paths.run, 'registry.pid'));
        await sleep(1000);
        await restartStack();
      },
    });
    faults.push({
      at: share(0.85),
      name: 'SIGKILL processor-a and processor-b (restarted at once)',
      run: async () => {
        await killServe(0)();
        await killServe(1)();
      },
    });

    const timeline: Array<{ name: string; at: number; recoveredMs: number | null }> = [];
    for (const fault of faults) {
      // Each fault at its planned time, but never before the previous one recovered (so each recovery
      // is measured on its own), up to 3 minutes.
      const wait = started + fault.at - Date.now();
      if (wait > 0) await sleep(wait);
      const previous = timeline[timeline.length - 1];
      if (previous) {
        const since = Date.now();
        while (processedSince(previous.at) === 0 && Date.now() - since < 180_000 && producer.child.exitCode === null) await sleep(250);
      }
      const at = Date.now();
      say(`fault: ${fault.name}`);
      await fault.run();
      timeline.push({ name: fault.name, at, recoveredMs: null });
    }
    const produced = await producer.exited;
    polling = false;
    await poller;
    say(`producer exited with ${produced}: ${producer.output().trim().split('\n').slice(-2).join(' | ')}`);
    const { counts, processedAt } = await countAll(config, events * ALL_TASKS.length, 5000, 10 * 60_000);
    // Recovery: fault → the first result the processors produced after it (its processedAt, from the final read).
    const sorted = processedAt.sort((a, b) => a - b);
    for (const entry of timeline) {
      const next = sorted.find((t) => t > entry.at);
      entry.recoveredMs = next === undefined ? null : next - entry.at;
    }

    console.log(
      `chaos: ${events} events, ${Math.round(events / rate)} s of producing at ${rate}/s, two processors, ${faults.length} fault steps`,
    );
    console.log(`producer: exit ${produced}; ${producer.output().trim().split('\n').pop()}`);
    for (const entry of timeline)
      console.log(
        `  +${((entry.at - started) / 1000).toFixed(1)} s  ${entry.name}: first result processed after it ${entry.recoveredMs === null ? 'none (all done before)' : `${(entry.recoveredMs / 1000).toFixed(1)} s later`}`,
      );
    let bad = produced !== 0;
    // A processor must survive broker and registry restarts by itself (only our SIGKILLs stop one).
    for (const serve of children.filter((c) => c.name.startsWith('processor') && !killed.has(c) && c.child.exitCode !== null)) {
      bad = true;
      console.log(
        `  ${serve.name} exited by itself with ${serve.child.exitCode}: ${serve.output().trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    for (const task of ALL_TASKS) {
      const seen = counts[task]!;
      const lost = ids.filter((id) => !seen.has(id)).length;
      const duplicated = [...seen.values()].filter((n) => n > 1).length;
      if (lost > 0 || duplicated > 0) bad = true;
      console.log(`  ${task.padEnd(10)} results ${[...seen.values()].reduce((a, b) => a + b, 0)}  lost ${lost}  duplicated ${duplicated}`);
    }
    console.log(bad ? 'chaos: FAILED (see above)' : 'chaos: every event has exactly one result per task');
    process.exitCode = bad ? 1 : 0;
  } finally {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    if (logsDir) {
      mkdirSync(logsDir, { recursive: true });
      children.forEach((c, i) => writeFileSync(path.join(logsDir, `${i}-${c.name}.log`), c.output()));
    }
    await stackDown(stackConfig, { wipe: true }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
