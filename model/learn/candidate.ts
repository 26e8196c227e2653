/**
 * A candidate model version from a dataset snapshot: the production encoder and tokenizer unchanged
 * (byte-identical, so a processor can swapHeads), each head with feedback retrained on the encoder's
 * frozen features (warm start from production; new categories heads from scratch), evaluated on the
 * held-back examples against production, with a fresh parity.json so `trident models register`
 * verifies it on this machine.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TaskName } from '../../common/tasks';
import { thisMachineInt8Gemm, cpuFlags } from '../cpu';
import { aggregateWords } from '../decode/aggregate';
import { decodeBio } from '../decode/bio';
import { bestAcrossWindows, bestSpanInWindow } from '../decode/qa';
import { argmax, softmax } from '../decode/softmax';
import * as metrics from '../evaluation/metrics';
import type { TextFeatures } from '../feature-decoder';
import { Head, LinearLayer, loadHeads, runHead } from '../heads';
import { HeadSpec, loadManifest, Manifest, sha256File } from '../manifest';
import { Pipeline } from '../pipeline';
import { writeSafetensors } from '../safetensors';
import type { PredictInput, PredictOutput } from '../types';
import { answerPosition, bioLabels, isUnaligned, pooledRows } from './align';
import { readConll, readSst2 } from './dev-splits';
import { FeatureCache } from './feature-cache';
import { featurize } from './features';
import { newHeadLayers, trainClassifier, trainSpanHead } from './train-heads';
import type {
  BuildCandidateOptions,
  CandidateBuild,
  ClassifierData,
  Example,
  HeadOutcome,
  LearnProgress,
  SpanData,
  TrainResult,
} from './types';

/** Epsilon of the near ties recorded in parity.json: 2 × CROSS_PATH_TOLERANCE, as parity_fixture.py records them. */
const NEAR_TIE_EPSILON = 0.5;
/** Hidden size of a new categories head when the artifact has none to copy. */
const DEFAULT_HIDDEN = 256;

type Metrics = Record<string, number>;

/** What training one head produced. */
interface HeadBuild {
  outcome: HeadOutcome;
  spec: HeadSpec | null;
  layers: LinearLayer[] | null;
}

/** Which head a manifest metrics split evaluates (the artifact's evaluation sets), or null. */
export function headOfSplit(split: string, manifest: Pick<Manifest, 'heads'>): string | null {
  if (split.startsWith('feedback/')) return split.split('/')[1] ?? null;
  if (split.startsWith('sst2/')) return 'sentiment';
  if (split.startsWith('conll')) return 'entities';
  if (split.startsWith('squad')) return 'answers';
  const first = split.split('/')[0];
  return first in manifest.heads ? first : null;
}

/**
 * Builds a candidate artifact in `options.outDir` (must not exist; removed again on failure).
 * Heads with too few training examples per label are skipped with a reason; when no head is
 * trained, nothing is written and every outcome is `skipped` (dir is '').
 * Long-running (featurising + training); does not block the event loop for long at a time.
 * Throws ModelArtifactError when the parent cannot be loaded, Error when outDir exists.
 */
export async function buildCandidate(options: BuildCandidateOptions): Promise<CandidateBuild> {
  const started = performance.now();
  if (existsSync(options.outDir)) throw new Error(`${options.outDir} exists; a candidate is written into a new folder`);
  const parent = loadManifest(options.parentDir);
  const pm = parent.manifest;
  const parentHeads = loadHeads(parent);
  const progress = options.onProgress ?? (() => undefined);
  const seconds = { features: 0, training: 0, evaluation: 0, total: 0 };
  const pipeline = await Pipeline.load(options.parentDir);
  const cache = new FeatureCache({ ...options.featureCache, encoderSha256: pm.encoder.sha256 });
  const builds: HeadBuild[] = [];
  let backend = 'none';
  try {
    const byHead = new Map<string, Example[]>();
    for (const e of options.examples) byHead.set(e.head, [...(byHead.get(e.head) ?? []), e]);
    for (const [head, examples] of [...byHead].sort(([a], [b]) => a.localeCompare(b))) {
      const build = await buildHead(
        head,
        examples,
        pm,
        parentHeads.get(head) ?? null,
        [...parentHeads.values()].find((h) => h.spec.task === 'categories') ?? null,
        pipeline,
        cache,
        options,
        progress,
        seconds,
      );
      if (build.result) backend = build.result.backend;
      builds.push(build);
      progress({ kind: 'head-done', outcome: build.outcome });
    }
  } finally {
    await pipeline.close();
  }
  const outcomes = builds.map((b) => b.outcome);
  const changed = builds.filter((b) => b.layers !== null);
  if (changed.length === 0) {
    seconds.total = (performance.now() - started) / 1000;
    return {
      dir: '',
      name: pm.name,
      version: options.version,
      parentVersion: pm.version,
      snapshot: options.snapshot,
      heads: outcomes,
      dev: [],
      backend,
      seconds,
    };
  }
  let dev: CandidateBuild['dev'];
  try {
    const evaluationStarted = performance.now();
    writeArtifact(options, parent, changed, outcomes, backend, seconds);
    const candidate = await Pipeline.load(options.outDir);
    try {
      dev = await evaluateDevSplits(candidate, changed, options, progress);
      const extra = Object.fromEntries(dev.map((d) => [d.split, d.candidate]));
      progress({ kind: 'evaluate', what: 'parity' });
      await writeParity(candidate, options.parentDir, options.outDir);
      seconds.evaluation += (performance.now() - evaluationStarted) / 1000;
      seconds.total = (performance.now() - started) / 1000;
      finishManifest(options.outDir, extra, seconds);
    } finally {
      await candidate.close();
    }
  } catch (error) {
    rmSync(options.outDir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir: options.outDir,
    name: pm.name,
    version: options.version,
    parentVersion: pm.version,
    snapshot: options.snapshot,
    heads: outcomes,
    dev,
    backend,
    seconds,
  };
}

/** The labels a head trains on: the production head's, plus (categories only) new ones in sorted order. */
function labelsFor(task: TaskName, parentSpec: HeadSpec | null, examples: readonly Example[]): string[] {
  const labels = parentSpec ? [...parentSpec.labels] : [];
  if (task === 'sentiment' || task === 'categories') {
    const seen = [...new Set(examples.map((e) => e.label!))].sort();
    if (task === 'categories') for (const l of seen) if (!labels.includes(l)) labels.push(l);
  }
  return labels;
}

/** Training examples per label (entities: per entity type; answers: one label `answer`). */
function countPerLabel(task: TaskName, examples: readonly Example[]): Map<string, number> {
  const counts = new Map<string, number>();
  const bump = (l: string): void => void counts.set(l, (counts.get(l) ?? 0) + 1);
  for (const e of examples) {
    if (task === 'entities') for (const t of new Set((e.entities ?? []).map((s) => s.label))) bump(t);
    else if (task === 'answers') bump('answer');
    else bump(e.label!);
  }
  return counts;
}

async function buildHead(
  head: string,
  examples: Example[],
  pm: Manifest,
  production: Head | null,
  template: Head | null,
  pipeline: Pipeline,
  cache: FeatureCache,
  options: BuildCandidateOptions,
  progress: (e: LearnProgress) => void,
  seconds: CandidateBuild['seconds'],
): Promise<HeadBuild & { result?: TrainResult }> {
  const task = examples[0].task;
  const train = examples.filter((e) => e.split === 'train');
  const heldout = examples.filter((e) => e.split === 'heldout');
  const labels = labelsFor(task, production?.spec ?? null, examples);
  const outcome: HeadOutcome = {
    head,
    task,
    status: 'skipped',
    labels,
    trainExamples: train.length,
    heldoutExamples: heldout.length,
    epochs: 0,
    heldout: null,
  };
  const skip = (reason: string): HeadBuild => ({ outcome: { ...outcome, reason }, spec: null, layers: null });
  if (!production && task !== 'categories') return skip(`the production model has no ${task} head`);
  if (!production && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(head)) return skip(`head name ${JSON.stringify(head)} cannot name a file`);
  const counts = countPerLabel(task, train);
  const few = [...countPerLabel(task, examples).keys()].filter((l) => (counts.get(l) ?? 0) < options.minExamplesPerLabel);
  if (few.length > 0 || counts.size === 0)
    return skip(
      `too few training examples per label (minimum ${options.minExamplesPerLabel}): ${few.map((l) => `${l} ${counts.get(l) ?? 0}`).join(', ') || 'none'}`,
    );

  // Features, once per text (and question).
  const featuresStarted = performance.now();
  const spec = specFor(head, task, labels, production, pm);
  const items = examples.map((e) => (task === 'answers' ? { text: e.text, question: e.answer!.question } : { text: e.text }));
  const features = await featurize(
    pipeline,
    items,
    { pooled: task !== 'entities' && task !== 'answers', tokens: task === 'entities' },
    cache,
    progress,
  );
  seconds.features += (performance.now() - featuresStarted) / 1000;
  const featureOf = new Map(examples.map((e, i) => [e, features[i]]));

  // Data, then training from production's layers (or new ones).
  const trainingStarted = performance.now();
  const unaligned: string[] = [];
  const data = (set: Example[]): ClassifierData | SpanData | null => {
    const built = dataFor(
      task,
      spec,
      set.map((e) => [e, featureOf.get(e)!] as const),
      unaligned,
    );
    return built;
  };
  const trainData = data(train);
  const heldoutData = heldout.length > 0 ? data(heldout) : null;
  if (!trainData) return skip(`no training example could be aligned (${unaligned.slice(0, 3).join('; ')})`);
  const init = initialLayers(production, template, labels, pm.encoder.hidden_size, options.seed ?? 1);
  const onEpoch = (p: { epoch: number; epochs: number; loss: number; heldoutLoss: number | null }): void =>
    progress({ kind: 'epoch', head, ...p });
  const common = {
    init,
    maxEpochs: options.maxEpochs ?? 30,
    seed: options.seed ?? 1,
    onEpoch,
    ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
    ...(options.patience !== undefined ? { patience: options.patience } : {}),
  };
  const result =
    task === 'answers'
      ? await trainSpanHead({ ...common, train: trainData as SpanData, heldout: heldoutData as SpanData | null })
      : await trainClassifier({
          ...common,
          classes: labels.length,
          train: trainData as ClassifierData,
          heldout: heldoutData as ClassifierData | null,
        });
  seconds.training += (performance.now() - trainingStarted) / 1000;

  // Held-back evaluation: the candidate head and production's on the same examples' features.
  const evaluationStarted = performance.now();
  progress({ kind: 'evaluate', what: `${head} held-back` });
  const heldPairs = heldout.map((e) => [e, featureOf.get(e)!] as const);
  const candidateHead: Head = { name: head, spec, layers: result.layers };
  const scores =
    heldPairs.length > 0
      ? { candidate: evaluateHead(candidateHead, heldPairs), production: production ? evaluateHead(production, heldPairs) : null }
      : null;
  seconds.evaluation += (performance.now() - evaluationStarted) / 1000;
  return {
    outcome: {
      ...outcome,
      status: production ? 'trained' : 'new',
      epochs: result.epochs,
      heldout: scores,
      ...(unaligned.length > 0 ? { reason: `${unaligned.length} examples not aligned, e.g. ${unaligned[0]}` } : {}),
    },
    spec,
    layers: result.layers,
    result,
  };
}

/** The manifest entry of the trained head: production's with the (grown) labels, or a new categories head's. */
export function specFor(head: string, task: TaskName, labels: string[], production: Head | null, pm: Manifest): HeadSpec {
  if (production) {
    // Production's temperature was fitted to its own weights; a retrained head starts uncalibrated.
    const { temperature: _fittedToProduction, ...spec } = production.spec;
    return { ...spec, labels } as HeadSpec;
  }
  const template = Object.values(pm.heads).find((h) => h.task === 'categories');
  return {
    task: 'categories',
    file: `heads/${head}.safetensors`,
    sha256: '0'.repeat(64),
    // Same pooling as the artifact's categories heads (cls in the released artifacts).
    pooling: template && template.task === 'categories' ? template.pooling : 'cls',
    layers: [
      { weight: 'dense.weight', bias: 'dense.bias', activation: 'tanh' },
      { weight: 'out.weight', bias: 'out.bias', activation: 'none' },
    ],
    labels,
    ...(template && 'top_k' in template && template.top_k !== undefined ? { top_k: template.top_k } : {}),
  } as HeadSpec;
}

/** Production's layers, with rows for new labels appended to the output layer (small random weights); or a new head. */
function initialLayers(production: Head | null, template: Head | null, labels: string[], dim: number, seed: number): LinearLayer[] {
  if (!production) {
    // Same architecture as the artifact's categories heads: dense (tanh) of their width, then out.
    const hidden = template && template.layers.length > 1 ? template.layers[0].outSize : DEFAULT_HIDDEN;
    return newHeadLayers(dim, hidden, labels.length, seed);
  }
  const layers = production.layers.map((l) => ({ ...l, padded: undefined }));
  const out = layers[layers.length - 1];
  const grow = labels.length - out.outSize;
  if (grow <= 0) return layers;
  const random = metrics.seededRandom(seed);
  const weight = new Float32Array(labels.length * out.inSize);
  weight.set(out.weight);
  for (let i = out.weight.length; i < weight.length; i++) weight[i] = (2 * random() - 1) * 0.02;
  const bias = new Float32Array(labels.length);
  bias.set(out.bias);
  layers[layers.length - 1] = { ...out, weight, bias, outSize: labels.length };
  return layers;
}

/** Training rows for a set of examples; misaligned examples are left out and described in `unaligned`. */
function dataFor(
  task: TaskName,
  spec: HeadSpec,
  pairs: ReadonlyArray<readonly [Example, TextFeatures]>,
  unaligned: string[],
): ClassifierData | SpanData | null {
  if (pairs.length === 0) return null;
  const dim = pairs[0][1].hiddenSize;
  if (task === 'answers') {
    const kept: Array<{ row: TextFeatures['questions'][0]['rows'][0]; start: number; end: number }> = [];
    for (const [e, f] of pairs) {
      const pos = answerPosition(f.offsets, f.questions[0].rows, e.answer!.start, e.answer!.end);
      if (isUnaligned(pos)) unaligned.push(`${e.id}: ${pos.reason}`);
      else kept.push({ row: f.questions[0].rows[pos.row], start: pos.start, end: pos.end });
    }
    if (kept.length === 0) return null;
    const maxLen = Math.max(...kept.map((k) => k.row.length));
    const x = new Float32Array(kept.length * maxLen * dim);
    const mask = new Uint8Array(kept.length * maxLen);
    kept.forEach((k, i) => {
      x.set(k.row.hidden, i * maxLen * dim);
      k.row.tokenIndex.forEach((t, p) => (mask[i * maxLen + p] = t >= 0 ? 1 : 0));
    });
    return { x, n: kept.length, maxLen, dim, mask, start: Int32Array.from(kept, (k) => k.start), end: Int32Array.from(kept, (k) => k.end) };
  }
  const xs: Float32Array[] = [];
  const ys: Int32Array[] = [];
  for (const [e, f] of pairs) {
    if (task === 'entities') {
      const y = bioLabels(f.offsets, f.wordIds, e.entities ?? [], spec.labels);
      if (isUnaligned(y)) {
        unaligned.push(`${e.id}: ${y.reason}`);
        continue;
      }
      xs.push(f.tokens!);
      ys.push(y);
    } else {
      const label = (spec.labels as readonly string[]).indexOf(e.label!);
      if (label < 0) {
        unaligned.push(`${e.id}: label ${e.label} is not one of the head's`);
        continue;
      }
      xs.push(pooledRows(f, spec.pooling === 'mean' ? 'mean' : 'cls'));
      ys.push(new Int32Array(f.windows).fill(label));
    }
  }
  if (xs.length === 0) return null;
  const rows = ys.reduce((n, y) => n + y.length, 0);
  const x = new Float32Array(rows * dim);
  const y = new Int32Array(rows);
  let at = 0;
  xs.forEach((part, i) => {
    x.set(part, at * dim);
    y.set(ys[i], at);
    at += ys[i].length;
  });
  return { x, rows, dim, y };
}

/** Predictions of one head on features, decoded exactly as the runtime decodes them. */
function predict(head: Head, f: TextFeatures): string | metrics.Span[] | { text: string | null; score: number; margin: number } {
  const spec = head.spec;
  const n = spec.labels.length;
  if (spec.task === 'entities') {
    const count = f.offsets.length / 2;
    const logits = runHead(head, f.tokens!, count);
    const probs = new Float64Array(count * n);
    for (let t = 0; t < count; t++) probs.set(softmax(logits, t * n, n), t * n);
    const words = aggregateWords(probs, n, f.wordIds, spec.aggregation).map((w) => ({
      label: spec.labels[w.labelIndex],
      score: w.score,
      start: f.offsets[2 * w.firstToken],
      end: f.offsets[2 * w.lastToken + 1],
    }));
    return decodeBio(words).map((e) => ({ label: e.label, start: e.start, end: e.end }));
  }
  if (spec.task === 'answers') {
    const spans = f.questions[0].rows.map((row) => {
      const logits = runHead(head, row.hidden, row.length);
      const s = Float64Array.from({ length: row.length }, (_, p) => logits[2 * p]);
      const e = Float64Array.from({ length: row.length }, (_, p) => logits[2 * p + 1]);
      const best = bestSpanInWindow(
        s,
        e,
        Array.from(row.tokenIndex, (t) => t >= 0),
        spec.max_answer_tokens,
      );
      return best && { score: best.score, start: row.tokenIndex[best.start], end: row.tokenIndex[best.end] };
    });
    const best = bestAcrossWindows(spans);
    if (!best || best.score < spec.no_answer_threshold) return { text: null, score: best?.score ?? 0, margin: 0 };
    return { text: f.text.slice(f.offsets[2 * best.start], f.offsets[2 * best.end + 1]), score: best.score, margin: 0 };
  }
  const logits = runHead(head, pooledRows(f, spec.pooling === 'mean' ? 'mean' : 'cls'), f.windows);
  const mean = new Float64Array(n);
  for (let w = 0; w < f.windows; w++) softmax(logits, w * n, n).forEach((p, k) => (mean[k] += p / f.windows));
  return spec.labels[argmax(mean)];
}

/** The head's metrics on examples (model/evaluation/metrics.ts), with the counts the manifests use. */
function evaluateHead(head: Head, pairs: ReadonlyArray<readonly [Example, TextFeatures]>): Metrics {
  const predictions = pairs.map(([, f]) => predict(head, f));
  if (head.spec.task === 'entities') {
    const m = metrics.entities(
      pairs.map(([e]) => e.entities ?? []),
      predictions as metrics.Span[][],
    );
    return { precision: m.precision, recall: m.recall, f1: m.f1, sentences: m.n };
  }
  if (head.spec.task === 'answers') {
    const m = metrics.answers(
      predictions.map((p) => (p as { text: string | null }).text),
      pairs.map(([e]) => [e.text.slice(e.answer!.start, e.answer!.end)]),
    );
    return { exact_match: m.exact_match, f1: m.f1, questions: m.n };
  }
  const m = metrics.classification(
    pairs.map(([e]) => e.label!),
    predictions as string[],
    head.spec.labels,
  );
  return { accuracy: m.accuracy, macro_f1: m.macro_f1, examples: m.n };
}

/** Copies the parent's encoder, tokenizer and unchanged heads; writes the trained heads and manifest.json (metrics completed later). */
function writeArtifact(
  options: BuildCandidateOptions,
  parent: { dir: string; manifest: Manifest },
  changed: HeadBuild[],
  outcomes: HeadOutcome[],
  backend: string,
  seconds: CandidateBuild['seconds'],
): void {
  const pm = parent.manifest;
  const out = options.outDir;
  mkdirSync(path.join(out, 'heads'), { recursive: true });
  cpSync(path.join(parent.dir, pm.encoder.file), path.join(out, pm.encoder.file));
  cpSync(path.join(parent.dir, pm.tokenizer.file), path.join(out, pm.tokenizer.file));
  const heads: Record<string, HeadSpec> = {};
  const changedNames = new Set(changed.map((b) => b.outcome.head));
  for (const [name, spec] of Object.entries(pm.heads)) {
    if (changedNames.has(name)) continue;
    mkdirSync(path.dirname(path.join(out, spec.file)), { recursive: true });
    cpSync(path.join(parent.dir, spec.file), path.join(out, spec.file));
    heads[name] = spec;
  }
  for (const b of changed) {
    const spec = b.spec!;
    const tensors = b.layers!.flatMap((layer, l): Array<[string, { shape: number[]; data: Float32Array }]> => [
      [spec.layers[l].weight, { shape: [layer.outSize, layer.inSize], data: layer.weight }],
      [spec.layers[l].bias, { shape: [layer.outSize], data: layer.bias }],
    ]);
    const file = path.join(out, spec.file);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, writeSafetensors(tensors));
    heads[b.outcome.head] = { ...spec, sha256: sha256File(file) } as HeadSpec;
  }
  // Metrics of unchanged heads are carried: their encoder and head bytes are identical to the parent's.
  const parentMetrics = ((pm.metrics ?? {}) as { int8?: Record<string, Metrics> }).int8 ?? {};
  const int8: Record<string, Metrics> = {};
  const carried: string[] = [];
  for (const [split, values] of Object.entries(parentMetrics)) {
    const head = headOfSplit(split, pm);
    if (head !== null && head in heads && !changedNames.has(head)) {
      int8[split] = values;
      carried.push(split);
    }
  }
  for (const o of outcomes) if (o.heldout && changedNames.has(o.head)) int8[`feedback/${o.head}/heldout`] = o.heldout.candidate;
  const manifest = {
    ...pm,
    version: options.version,
    created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    heads,
    metrics: { int8 },
    training: {
      kind: 'heads',
      parent: { name: pm.name, version: pm.version, sha256: sha256File(path.join(parent.dir, 'manifest.json')) },
      dataset: options.snapshot,
      backend,
      seconds,
      heads: outcomes,
      carried_metrics: carried,
      min_examples_per_label: options.minExamplesPerLabel,
    },
  };
  writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

/** Adds the dev-split metrics and final timings to manifest.json. */
function finishManifest(dir: string, extra: Record<string, Metrics>, seconds: CandidateBuild['seconds']): void {
  const file = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { metrics: { int8: Record<string, Metrics> }; training: { seconds: unknown } };
  Object.assign(manifest.metrics.int8, extra);
  manifest.training.seconds = seconds;
  writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
}

/**
 * The artifact's own evaluation sets for the heads that changed, candidate and production both run
 * here (the Python evaluation behind production's manifest decodes differently: 1.1.0 scores CoNLL
 * testa F1 91.20 there and 90.59 through this runtime, which would fail a 0.5-point gate with the
 * head unchanged). SST-2 dev for sentiment, CoNLL-2003 testa for entities; split names end in
 * `@runtime`. Not here: SQuAD dev (7,235 questions, minutes on two cores) and banking77's validation
 * split (drawn in Python by a seeded stratified split that is not reproduced here).
 */
async function evaluateDevSplits(
  candidate: Pipeline,
  changed: HeadBuild[],
  options: BuildCandidateOptions,
  progress: (e: LearnProgress) => void,
): Promise<CandidateBuild['dev']> {
  const dataDir = options.evalDataDir;
  if (!dataDir || !existsSync(dataDir)) return [];
  const names = new Set(changed.map((b) => b.outcome.head));
  const sst2 = path.join(dataDir, 'sst2', 'dev.tsv');
  const testa = path.join(dataDir, 'conll2003', 'eng.testa');
  const wanted = [names.has('sentiment') && existsSync(sst2), names.has('entities') && existsSync(testa)];
  if (!wanted.some(Boolean)) return [];
  const production = await Pipeline.load(options.parentDir);
  const out: CandidateBuild['dev'] = [];
  try {
    const runAll = async (pipeline: Pipeline, texts: readonly string[], task: 'sentiment' | 'entities'): Promise<PredictOutput[]> => {
      const outputs: PredictOutput[] = [];
      for (let at = 0; at < texts.length; at += 64) {
        const chunk = texts.slice(at, at + 64).map((text, i): PredictInput => ({ id: String(at + i), text }));
        outputs.push(...(await pipeline.run(chunk, [task])));
      }
      return outputs;
    };
    if (wanted[0]) {
      progress({ kind: 'evaluate', what: 'sst2/dev' });
      const rows = readSst2(readFileSync(sst2, 'utf8'));
      const score = async (pipeline: Pipeline): Promise<Record<string, number>> => {
        const outputs = await runAll(
          pipeline,
          rows.map((r) => r.text),
          'sentiment',
        );
        const m = metrics.classification(
          rows.map((r) => r.label),
          outputs.map((o) => o.sentiment!.label),
          ['negative', 'positive'],
        );
        return { accuracy: m.accuracy, macro_f1: m.macro_f1, examples: m.n };
      };
      out.push({ split: 'sst2/dev@runtime', candidate: await score(candidate), production: await score(production) });
    }
    if (wanted[1]) {
      progress({ kind: 'evaluate', what: 'conll2003/testa' });
      const sentences = readConll(readFileSync(testa, 'utf8'));
      const score = async (pipeline: Pipeline): Promise<Record<string, number>> => {
        const outputs = await runAll(
          pipeline,
          sentences.map((s) => s.text),
          'entities',
        );
        const m = metrics.entities(
          sentences.map((s) => s.entities),
          outputs.map((o) => o.entities!.map((e) => ({ label: e.label, start: e.start, end: e.end }))),
        );
        return { precision: m.precision, recall: m.recall, f1: m.f1, sentences: m.n };
      };
      out.push({ split: 'conll2003/testa@runtime', candidate: await score(candidate), production: await score(production) });
    }
  } finally {
    await production.close();
  }
  return out;
}

interface ParityFile {
  offsets?: string;
  inputs: PredictInput[];
  tasks: string[];
  expected: { int8?: PredictOutput[] };
}

/**
 * parity.json for the candidate: the parent's inputs through the candidate on this machine, with this
 * machine's kernel path and the near ties (margins ≤ NEAR_TIE_EPSILON) of entities and answers, as
 * training/trident_training/parity_fixture.py records them, so another CPU's verification knows
 * which decisions may flip.
 */
async function writeParity(candidate: Pipeline, parentDir: string, outDir: string): Promise<void> {
  const parentFile = path.join(parentDir, 'parity.json');
  if (!existsSync(parentFile)) return;
  const parent = JSON.parse(readFileSync(parentFile, 'utf8')) as ParityFile;
  const tasks = parent.tasks.filter((t) => (candidate.tasks as string[]).includes(t));
  const expected: PredictOutput[] = [];
  const ties: Record<string, { entities?: Array<[number, number, number]>; answers?: Array<[number, number]> }> = {};
  const heads = loadHeads(loadManifest(outDir));
  const entities = heads.get('entities');
  const answers = heads.get('answers');
  for (const input of parent.inputs) {
    if (input.text.trim() === '') {
      expected.push({ id: input.id });
      continue;
    }
    const [output] = await candidate.run([input], tasks);
    expected.push(output);
    const found: (typeof ties)[string] = {};
    if (entities && tasks.includes('entities')) {
      const [f] = await candidate.features([input], { pooled: false, tokens: true, questions: false });
      const ranges = entityNearTies(entities, f);
      if (ranges.length > 0) found.entities = ranges;
    }
    if (answers && tasks.includes('answers') && (input.questions ?? []).length > 0) {
      const flagged: Array<[number, number]> = [];
      for (const [qi, question] of input.questions!.entries()) {
        const [f] = await candidate.features([{ ...input, questions: [question] }], { pooled: false, tokens: false, questions: true });
        const margin = answerMargin(answers, f);
        if (margin <= NEAR_TIE_EPSILON) flagged.push([qi, round6(margin)]);
      }
      if (flagged.length > 0) found.answers = flagged;
    }
    if (found.entities || found.answers) ties[input.id] = found;
  }
  const flags = cpuFlags();
  const kernel = {
    onnxruntime: onnxruntimeVersion(),
    machine: os.arch() === 'x64' ? 'x86_64' : os.arch() === 'arm64' ? 'aarch64' : os.arch(),
    int8_gemm: thisMachineInt8Gemm(),
    cpu_flags: ['amx_int8', 'avx512_vnni', 'avx_vnni', 'avx512bw', 'avx2', 'sse4_1', 'asimd', 'asimddp', 'i8mm', 'sve'].filter((f) =>
      flags?.has(f),
    ),
  };
  const parity = {
    offsets: parent.offsets ?? 'utf-16',
    inputs: parent.inputs,
    tasks,
    expected: { int8: expected },
    kernel,
    near_ties: { epsilon: NEAR_TIE_EPSILON, inputs: ties },
    made_by: 'model/learn/candidate.ts (TypeScript runtime, candidate heads)',
  };
  writeFileSync(path.join(outDir, 'parity.json'), JSON.stringify(parity, null, 2) + '\n');
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

function onnxruntimeVersion(): string {
  try {
    return (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Words whose top-two label margin is ≤ epsilon, as [start of the previous word, end of the next word, margin] (parity_fixture.py near_ties). */
function entityNearTies(head: Head, f: TextFeatures): Array<[number, number, number]> {
  const spec = head.spec;
  if (spec.task !== 'entities') return [];
  const n = spec.labels.length;
  const count = f.offsets.length / 2;
  if (count === 0) return [];
  const logits = runHead(head, f.tokens!, count);
  const probs = new Float64Array(count * n);
  for (let t = 0; t < count; t++) probs.set(softmax(logits, t * n, n), t * n);
  const words = aggregateWords(probs, n, f.wordIds, spec.aggregation);
  const out: Array<[number, number, number]> = [];
  words.forEach((w, i) => {
    const vector = Array.from(probs.subarray(w.firstToken * n, (w.firstToken + 1) * n)).sort((a, b) => b - a);
    const margin = vector[0] - vector[1];
    if (margin > NEAR_TIE_EPSILON) return;
    const lo = words[Math.max(i - 1, 0)];
    const hi = words[Math.min(i + 1, words.length - 1)];
    out.push([f.offsets[2 * lo.firstToken], f.offsets[2 * hi.lastToken + 1], round6(margin)]);
  });
  return out;
}

/** min(best span − runner-up span over all windows, |best − no-answer threshold|), as parity_fixture.py. */
function answerMargin(head: Head, f: TextFeatures): number {
  const spec = head.spec;
  if (spec.task !== 'answers') return 1;
  const best = new Map<string, number>();
  for (const row of f.questions[0]?.rows ?? []) {
    const logits = runHead(head, row.hidden, row.length);
    const ctx = Array.from(row.tokenIndex, (t) => t >= 0);
    const mask = (k: number): Float64Array => Float64Array.from({ length: row.length }, (_, p) => (ctx[p] ? logits[2 * p + k] : -Infinity));
    if (!ctx.some(Boolean)) continue;
    const ps = softmax(mask(0));
    const pe = softmax(mask(1));
    for (let s = 0; s < row.length; s++) {
      if (!ctx[s]) continue;
      for (let e = s; e < row.length && e < s + spec.max_answer_tokens; e++) {
        if (!ctx[e]) continue;
        const key = `${row.tokenIndex[s]}:${row.tokenIndex[e]}`;
        best.set(key, Math.max(best.get(key) ?? -1, ps[s] * pe[e]));
      }
    }
  }
  const top = [...best.values()].sort((a, b) => b - a).slice(0, 2);
  if (top.length === 0) return 1;
  const margin = top.length === 2 ? top[0] - top[1] : 1;
  return Math.min(margin, Math.abs(top[0] - spec.no_answer_threshold));
}
