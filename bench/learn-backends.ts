/**
 * The head trainer (model/learn/train-heads.ts) on each tfjs backend, in the same run: the shape of
 * the production categories head (384 → 384 tanh → 77 classes) trained from scratch on synthetic
 * pooled features, each backend in its own process (TRIDENT_TFJS_BACKEND), one after the other.
 * tfjs-node is the baseline; the learner falls back to wasm when tfjs-node cannot load.
 *
 *   npm run build && node dist/bench/learn-backends.js [--examples 4000] [--epochs 5] [--batch 32] [--cpu]
 *
 * Prints seconds per epoch (the first epoch apart: it includes the backend's warm-up), the final
 * training and held-back losses per backend, and wasm ÷ tensorflow (and cpu ÷ tensorflow with --cpu).
 */
import { spawnSync } from 'node:child_process';
import { args } from './encoder-common';
import { blobs } from '../model/learn/testing';
import { newHeadLayers, trainClassifier, trainDefaults } from '../model/learn/train-heads';

const DIM = 384;
const HIDDEN = 384;
const CLASSES = 77;

interface Measured {
  backend: string;
  epochs: number;
  firstEpochS: number;
  /** Mean seconds of the epochs after the first (the first alone when only one ran). */
  epochS: number;
  loss: number;
  heldoutLoss: number;
  loadS: number;
}

/** In the child: trains on the backend TRIDENT_TFJS_BACKEND names and prints one JSON line. */
async function child(examples: number, epochs: number, batchSize: number): Promise<void> {
  // Classes that 384 noisy dimensions make hard to tell apart at first: the loss falls over the epochs.
  const train = blobs(examples, DIM, CLASSES, 1, 1);
  const heldout = blobs(Math.max(CLASSES, Math.round(examples / 10)), DIM, CLASSES, 2, 1);
  const started = performance.now();
  const { loadTf } = await import('../model/learn/tfjs');
  await loadTf();
  const loadS = (performance.now() - started) / 1000;
  const marks: number[] = [performance.now()];
  const result = await trainClassifier({
    init: newHeadLayers(DIM, HIDDEN, CLASSES, 3),
    classes: CLASSES,
    train,
    heldout,
    maxEpochs: epochs,
    patience: epochs,
    batchSize,
    seed: 4,
    onEpoch: () => marks.push(performance.now()),
  });
  const perEpoch = marks.slice(1).map((t, i) => (t - marks[i]) / 1000);
  const rest = perEpoch.length > 1 ? perEpoch.slice(1) : perEpoch;
  const last = result.history[result.history.length - 1];
  const measured: Measured = {
    backend: result.backend,
    epochs: result.epochs,
    firstEpochS: perEpoch[0],
    epochS: rest.reduce((s, v) => s + v, 0) / rest.length,
    loss: last.loss,
    heldoutLoss: last.heldoutLoss!,
    loadS,
  };
  console.log(JSON.stringify(measured));
}

function runChild(backend: string, argv: string[]): Measured | string {
  const r = spawnSync(process.execPath, [__filename, '--child', ...argv], {
    env: { ...process.env, TRIDENT_TFJS_BACKEND: backend, TF_CPP_MIN_LOG_LEVEL: '2' },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{'))
    return `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  return JSON.parse(line) as Measured;
}

async function main(): Promise<void> {
  const opts = args();
  const examples = Number(opts.get('examples') ?? 4000);
  const epochs = Number(opts.get('epochs') ?? 5);
  const batch = Number(opts.get('batch') ?? trainDefaults.batchSize);
  const childArgs = ['--examples', String(examples), '--epochs', String(epochs), '--batch', String(batch)];
  if (opts.has('child')) return child(examples, epochs, batch);

  const backends = ['tensorflow', 'wasm', ...(opts.has('cpu') ? ['cpu'] : [])];
  console.log(
    `${DIM} → ${HIDDEN} (tanh) → ${CLASSES} classifier, ${examples} training examples (+${Math.max(CLASSES, Math.round(examples / 10))} held back), ` +
      `batch ${batch}, ${epochs} epochs, Adam; each backend in its own process`,
  );
  const results = new Map<string, Measured>();
  for (const backend of backends) {
    const m = runChild(backend, childArgs);
    if (typeof m === 'string') {
      console.log(`${backend.padEnd(10)} did not run: ${m}`);
      continue;
    }
    results.set(backend, m);
    console.log(
      `${backend.padEnd(10)} ${m.epochS.toFixed(2)} s/epoch (first ${m.firstEpochS.toFixed(2)} s, load ${m.loadS.toFixed(2)} s), ` +
        `final loss ${m.loss.toFixed(4)}, held-back ${m.heldoutLoss.toFixed(4)}`,
    );
  }
  const base = results.get('tensorflow');
  for (const other of backends.slice(1)) {
    const m = results.get(other);
    if (base && m) console.log(`${other} ÷ tensorflow: ${(m.epochS / base.epochS).toFixed(2)}× the time per epoch`);
  }
  if (!base) console.log('no baseline: tfjs-node (tensorflow) did not load; see scripts/install-tfjs.js');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
