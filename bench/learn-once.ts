/**
 * `trident learn --once` end to end, as a user runs it: N labelled examples of one new categories head
 * on the feedback topic, then the time from "learn --once starts" to "candidate registered" (process
 * start, consuming, featurising with an empty feature cache, training, evaluation, parity, registration),
 * once per tfjs backend, each on its own consumer group, changelog and feature cache. Prints the
 * learner's own breakdown and the ratio wasm ÷ tensorflow.
 *
 *   npm run build && node dist/bench/learn-once.js [--examples 4000] [--backends tensorflow,wasm]
 *
 * Texts: CLINC150 train (../shared/data/clinc150) when it is beside the checkout, 40 intents × 100;
 * otherwise templated sentences (said on the first line).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveModelDir } from '../model/artifacts';
import { args } from './encoder-common';
import { benchConfig } from './processor-common';

const repoRoot = path.resolve(__dirname, '..', '..');
const cli = path.join(repoRoot, 'bin', 'trident.js');

interface Labelled {
  text: string;
  label: string;
}

/** CLINC150 train: `perLabel` texts of each of the first `labels` intents, or null when the data is not there. */
function clincExamples(labels: number, perLabel: number): Labelled[] | null {
  const file = path.resolve(repoRoot, '..', 'shared', 'data', 'clinc150', 'data_full_train_val.json');
  if (!existsSync(file)) return null;
  const data = JSON.parse(readFileSync(file, 'utf8')) as { train: Array<[string, string]> };
  const byLabel = new Map<string, string[]>();
  for (const [text, label] of data.train) byLabel.set(label, [...(byLabel.get(label) ?? []), text]);
  return [...byLabel.entries()].slice(0, labels).flatMap(([label, texts]) => texts.slice(0, perLabel).map((text) => ({ text, label })));
}

function templatedExamples(labels: number, perLabel: number): Labelled[] {
  const verbs = ['please help me', 'I need to', 'can you', 'how do I', 'I would like to'];
  const out: Labelled[] = [];
  for (let l = 0; l < labels; l++)
    for (let i = 0; i < perLabel; i++) out.push({ text: `${verbs[i % verbs.length]} do task ${l} for order ${i}`, label: `intent_${l}` });
  return out;
}

function cliRun(argv: string[], env: NodeJS.ProcessEnv): { seconds: number; stdout: string } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...argv], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`trident ${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { seconds, stdout: r.stdout };
}

async function main(): Promise<void> {
  const opts = args();
  const count = Number(opts.get('examples') ?? 4000);
  const backends = (opts.get('backends') ?? 'tensorflow,wasm').split(',');
  const model = resolveModelDir(opts.get('model'));
  const labels = 40;
  const perLabel = Math.ceil(count / labels);
  const real = clincExamples(labels, perLabel);
  const examples = (real ?? templatedExamples(labels, perLabel)).slice(0, count);
  console.log(
    `learn --once: ${examples.length} examples of one new categories head (${labels} labels, ${real ? 'CLINC150 train' : 'templated texts: ../shared/data/clinc150 not found'}), parent ${path.basename(model)}`,
  );
  const { env } = await benchConfig(1);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trident-bench-learn-'));
  try {
    cliRun(['models', 'register', model], env);
    const parent = JSON.parse(readFileSync(path.join(model, 'manifest.json'), 'utf8')) as { name: string; version: string };
    cliRun(['models', 'promote', `${parent.name}@${parent.version}`], env);
    const file = path.join(dir, 'feedback.jsonl');
    writeFileSync(
      file,
      examples
        .map((e, i) => JSON.stringify({ id: `l${i}`, task: 'categories', head: 'bench_intents', label: e.label, text: e.text }))
        .join('\n') + '\n',
    );
    cliRun(['produce', '--feedback', '--file', file, '--no-progress'], env);
    const rows: Array<{ backend: string; wall: number; line: string }> = [];
    for (const backend of backends) {
      const runEnv: NodeJS.ProcessEnv = {
        ...env,
        TRIDENT_TFJS_BACKEND: backend,
        TRIDENT_LEARN_GROUP_ID: `bench-learner-${backend}-${Date.now().toString(36)}`,
        TRIDENT_TOPICS_LEARN_CHANGELOG: `${env.TRIDENT_TOPICS_FEEDBACK}.changelog-${backend}`,
        TRIDENT_LEARN_FEATURE_CACHE_DIR: path.join(dir, `features-${backend}`),
        TRIDENT_LEARN_STATE_DIR: path.join(dir, `state-${backend}`),
        TRIDENT_LEARN_METRICS_PORT: '0',
        TF_CPP_MIN_LOG_LEVEL: '2',
      };
      const { seconds, stdout } = cliRun(['learn', '--once'], runEnv);
      const line = stdout.split('\n').find((l) => l.startsWith('registered ')) ?? '(no registered line)';
      const head = stdout.split('\n').find((l) => l.startsWith('head bench_intents')) ?? '';
      rows.push({ backend, wall: seconds, line });
      console.log(`${backend}: ${seconds.toFixed(1)} s from start to candidate registered`);
      console.log(`  ${line}`);
      console.log(`  ${head}`);
    }
    const node = rows.find((r) => r.backend === 'tensorflow');
    const wasm = rows.find((r) => r.backend === 'wasm');
    if (node && wasm) {
      const training = (line: string): number => Number(/training ([\d.]+) s/.exec(line)?.[1] ?? NaN);
      console.log(
        `ratio wasm ÷ tensorflow: wall ${(wasm.wall / node.wall).toFixed(2)}, training alone ${(training(wasm.line) / training(node.line)).toFixed(2)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
