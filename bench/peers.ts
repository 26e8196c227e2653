/**
 * Trident against its peer, side by side in one run: the same four tasks (sentiment, entities, one
 * answer per text, banking77 categories) over the same texts, on the same machine and cores.
 *
 *   npm run build && node dist/bench/peers.js [--texts 256] [--artifact DIR] [--peers-dir DIR]
 *     [--threads N] [--trident-sessions N] [--micro-batch 64] [--in-flight 2] [--agreement-texts 256]
 *     [--cased-file FILE] [--repeat 2] [--peer-settings same|defaults] [--show N]
 *
 * - Trident: one Pipeline, all four tasks, its default batching, called as the processor calls it
 *   (micro-batches of `--micro-batch` inputs, `--in-flight` calls at once).
 * - Peer: Transformers.js, one pipeline per task (text-classification for sentiment and for
 *   banking77, token-classification with `simple` aggregation, question-answering), each loaded from
 *   a standard single-task int8 model exported from the same artifact by
 *   `python -m trident_training.export_peers` (run here when the folders are missing), called per text.
 *
 * Each side runs in its own child process, so its peak RSS is its own; the sides alternate `--repeat`
 * times and each keeps its fastest run. Trident's process also runs the texts one per call after its
 * timed run (same-shape latency as the peer's; its peak RSS is taken before). Both sides get the same ONNX
 * Runtime session settings: `--threads` intra-op threads (default: the number of cores) — per session
 * on the peer's side, and split over Trident's `--trident-sessions` encoder sessions (default: the
 * processor's choice for the artifact's batching, model/pipeline.ts defaultSessions) — one inter-op
 * thread, spinning as Trident's config says (off unless TRIDENT_ORT_SPINNING=1); with
 * `--peer-settings defaults` the peer keeps Transformers.js' own (ORT's: spinning on), threads still equal.
 * Prints texts/s, p50/p99 per text and peak RSS, the ratios Trident ÷ peer, and how often the two
 * agree (the peer's in-graph case_ids are those of lower-case text; see export_peers.py) on the bench
 * texts and on cased text (`--cased-file`, one text per line; default: generated sentences with
 * names), where Trident also runs on the lower-cased text to split casing from decoding. Writes the
 * result to bench/results/peers-<time>.json.
 *
 * Goal (printed, not asserted): Trident ÷ peer ≥ 3× texts/s with ≤ 0.4× the RSS.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtInTasks } from '../common/tasks';
import { modelConfigFromEnv } from '../common/config';
import { resolveModelDir } from '../model/artifacts';
import { loadManifest } from '../model/manifest';
import { Pipeline, defaultBatching, defaultSessions } from '../model/pipeline';
import type { PredictInput, PredictOutput } from '../model/types';
import { args, benchTexts, fmt, generatedTexts, mb } from './encoder-common';

const QUESTIONS = ['What is the review about?', 'Who is it about?', 'What did the critic think?'];
const REPO = path.resolve(__dirname, '..', '..');

/** The comparable part of one text's four results, from either side. */
interface Comparable {
  sentiment: string;
  category: string;
  /** `label:text` per entity, text lower case without spaces (the peer's text is decoded word pieces). */
  entities: string[];
  /** Lower case without spaces; null for Trident's explicit no-answer. */
  answer: string | null;
}

/** What a child process measured. */
interface SideResult {
  side: 'trident' | 'peer';
  texts: number;
  seconds: number;
  latenciesMs: number[];
  maxRssKb: number;
  loadMs: number;
  outputs: Comparable[];
  /** Outputs on cased text (and, Trident only, on the same text lower-cased), after the timed run. */
  cased: Comparable[];
  lowered?: Comparable[];
  /** Trident only: the same texts again, one text per call, one call at a time (as the peer runs). */
  perText?: { seconds: number; latenciesMs: number[] };
}

interface ChildJob {
  side: 'trident' | 'peer';
  artifact: string;
  peersDir: string;
  threads: number;
  /** Trident's encoder sessions; its threads per session are `threads` ÷ sessions (same cores in all). */
  tridentSessions: number;
  microBatch: number;
  inFlight: number;
  /** `same`: the peer's sessions get Trident's settings; `defaults`: Transformers.js' own (threads still equal). */
  peerSettings: 'same' | 'defaults';
  texts: string[];
  casedTexts: string[];
}

const squash = (s: string): string => s.toLowerCase().replace(/\s+/g, '');

function inputsOf(texts: string[]): PredictInput[] {
  return texts.map((text, i) => ({ id: String(i), text, questions: [QUESTIONS[i % QUESTIONS.length]] }));
}

function tridentComparable(out: PredictOutput, head: string): Comparable {
  const answer = out.answers?.[0];
  return {
    sentiment: out.sentiment?.label ?? '',
    category: out.categories?.[head]?.[0]?.label ?? '',
    entities: (out.entities ?? []).map((e) => `${e.label}:${squash(e.text)}`),
    answer: answer?.answer == null ? null : squash(answer.answer),
  };
}

/** Trident side: one Pipeline, the processor's way of calling it; a text's latency is its call's. */
async function runTrident(job: ChildJob): Promise<SideResult> {
  const loadStarted = performance.now();
  const pipeline = await Pipeline.load(job.artifact, {
    sessions: job.tridentSessions,
    threads: Math.max(1, Math.floor(job.threads / job.tridentSessions)),
  });
  const loadMs = performance.now() - loadStarted;
  const tasks = [...builtInTasks];
  const head = pipeline.categoryHeads[0];
  await pipeline.run(inputsOf(job.texts.slice(0, 8)), tasks); // warm-up
  const inputs = inputsOf(job.texts);
  const chunks: PredictInput[][] = [];
  for (let i = 0; i < inputs.length; i += job.microBatch) chunks.push(inputs.slice(i, i + job.microBatch));
  const outputs: PredictOutput[] = new Array(inputs.length);
  const latenciesMs: number[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < chunks.length) {
      const chunk = chunks[next++];
      const started = performance.now();
      const results = await pipeline.run(chunk, tasks);
      const ms = performance.now() - started;
      for (const r of results) {
        outputs[Number(r.id)] = r;
        latenciesMs.push(ms);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: job.inFlight }, lane));
  const seconds = (performance.now() - started) / 1000;
  const maxRssKb = process.resourceUsage().maxRSS;
  const perTextLatencies: number[] = [];
  const perTextStarted = performance.now();
  for (const input of inputs) {
    const t0 = performance.now();
    await pipeline.run([input], tasks);
    perTextLatencies.push(performance.now() - t0);
  }
  const perText = { seconds: (performance.now() - perTextStarted) / 1000, latenciesMs: perTextLatencies };
  const cased = await pipeline.run(inputsOf(job.casedTexts), tasks);
  const lowered = await pipeline.run(inputsOf(job.casedTexts.map((t) => t.toLowerCase())), tasks);
  await pipeline.close();
  return {
    side: 'trident',
    texts: inputs.length,
    seconds,
    latenciesMs,
    maxRssKb,
    loadMs,
    outputs: outputs.map((o) => tridentComparable(o, head)),
    cased: cased.map((o) => tridentComparable(o, head)),
    lowered: lowered.map((o) => tridentComparable(o, head)),
    perText,
  };
}

type Label = { label: string; score: number };
type EntityGroup = { entity_group: string; word: string; score: number };
type Answer = { answer: string; score: number };
type PeerPipe = (...a: unknown[]) => Promise<unknown>;

/** Peer side: four Transformers.js pipelines, offline, on CPU, each called once per text. */
async function runPeer(job: ChildJob): Promise<SideResult> {
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = job.peersDir + path.sep;
  const { head } = peersInfo(job.peersDir);
  const spinning = modelConfigFromEnv().ortSpinning;
  const options = {
    dtype: 'q8' as const,
    device: 'cpu' as const,
    session_options: {
      intraOpNumThreads: job.threads,
      ...(job.peerSettings === 'same' && {
        interOpNumThreads: 1,
        extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
      }),
    },
  };
  const loadStarted = performance.now();
  const sentiment = (await pipeline('text-classification', 'sentiment', options)) as unknown as PeerPipe;
  const categories = (await pipeline('text-classification', head, options)) as unknown as PeerPipe;
  const entities = (await pipeline('token-classification', 'entities', options)) as unknown as PeerPipe;
  const answers = (await pipeline('question-answering', 'answers', options)) as unknown as PeerPipe;
  const loadMs = performance.now() - loadStarted;

  const one = async (text: string, question: string): Promise<Comparable> => {
    const s = (await sentiment(text)) as Label[];
    const c = (await categories(text, { top_k: 5 })) as Label[];
    const e = (await entities(text, { aggregation_strategy: 'simple' })) as EntityGroup[];
    const a = (await answers(question, text)) as Answer;
    return {
      sentiment: s[0].label,
      category: c[0].label,
      entities: e.map((g) => `${g.entity_group}:${squash(g.word)}`),
      answer: squash(a.answer),
    };
  };
  for (let i = 0; i < 8; i++) await one(job.texts[i], QUESTIONS[i % QUESTIONS.length]); // warm-up
  const outputs: Comparable[] = [];
  const latenciesMs: number[] = [];
  const started = performance.now();
  for (let i = 0; i < job.texts.length; i++) {
    const t0 = performance.now();
    outputs.push(await one(job.texts[i], QUESTIONS[i % QUESTIONS.length]));
    latenciesMs.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  const maxRssKb = process.resourceUsage().maxRSS;
  const cased: Comparable[] = [];
  for (let i = 0; i < job.casedTexts.length; i++) cased.push(await one(job.casedTexts[i], QUESTIONS[i % QUESTIONS.length]));
  return { side: 'peer', texts: job.texts.length, seconds, latenciesMs, maxRssKb, loadMs, outputs, cased };
}

interface PeersInfo {
  encoder_sha256: string;
  heads: Record<string, { task: string }>;
}

/** The peers folder's record of what it was exported from, and its categories head. */
function peersInfo(dir: string): PeersInfo & { head: string } {
  const info = JSON.parse(readFileSync(path.join(dir, 'peers.json'), 'utf8')) as PeersInfo;
  const head = Object.entries(info.heads).find(([, h]) => h.task === 'categories')?.[0];
  if (!head) throw new Error(`${dir}/peers.json names no categories head`);
  return { ...info, head };
}

/** Exports the peer folders when missing or made from another encoder; else says how and exits. */
function ensurePeers(artifact: string, peersDir: string, encoderSha: string): void {
  const file = path.join(peersDir, 'peers.json');
  if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as PeersInfo).encoder_sha256 === encoderSha) return;
  const python = path.join(REPO, 'training', '.venv', 'bin', 'python');
  const command = `cd training && .venv/bin/python -m trident_training.export_peers --artifact ${artifact} --out ${peersDir}`;
  if (!existsSync(python)) {
    console.error(`peer models missing in ${peersDir}; make them with:\n  bash training/setup.sh && ${command}`);
    process.exit(2);
  }
  console.log(`exporting the peer models: ${command}`);
  const done = spawnSync(python, ['-m', 'trident_training.export_peers', '--artifact', artifact, '--out', peersDir], {
    cwd: path.join(REPO, 'training'),
    stdio: 'inherit',
  });
  if (done.status !== 0) {
    console.error(`the export failed (exit ${done.status}); run it by hand:\n  ${command}`);
    process.exit(2);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Share of texts where both sides decided the same, per task. */
function agreement(a: Comparable[], b: Comparable[]): Record<keyof Comparable, number> {
  const same = (f: (x: Comparable, y: Comparable) => boolean): number => a.filter((x, i) => f(x, b[i])).length / a.length;
  return {
    sentiment: same((x, y) => x.sentiment === y.sentiment),
    category: same((x, y) => x.category === y.category),
    entities: same((x, y) => x.entities.join('|') === y.entities.join('|')),
    answer: same((x, y) => x.answer === y.answer),
  };
}

/** Cased text for the agreement check: a file of one text per line, else the generated sentences. */
function casedTexts(file?: string): string[] {
  if (!file) return generatedTexts();
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

function runChild(job: ChildJob, scratch: string): SideResult {
  const jobFile = path.join(scratch, `${job.side}-job.json`);
  const resultFile = path.join(scratch, `${job.side}-result.json`);
  writeFileSync(jobFile, JSON.stringify(job));
  execFileSync(process.execPath, [__filename, '--child', jobFile, '--result', resultFile], { stdio: 'inherit' });
  return JSON.parse(readFileSync(resultFile, 'utf8')) as SideResult;
}

async function main(): Promise<void> {
  const a = args();
  if (a.get('child')) {
    const job = JSON.parse(readFileSync(a.get('child')!, 'utf8')) as ChildJob;
    const result = job.side === 'trident' ? await runTrident(job) : await runPeer(job);
    writeFileSync(a.get('result')!, JSON.stringify(result));
    return;
  }
  const artifact = resolveModelDir(a.get('artifact'));
  const { manifest } = loadManifest(artifact);
  const peersDir = path.resolve(a.get('peers-dir') ?? path.join(os.homedir(), '.cache', 'trident', 'peers', manifest.version));
  ensurePeers(artifact, peersDir, manifest.encoder.sha256);
  const count = Number(a.get('texts') ?? 256);
  const threads = Number(a.get('threads') ?? os.cpus().length);
  // Unset: the processor's own choice for this artifact (model/pipeline.ts defaultSessions).
  const tridentSessions = Number(a.get('trident-sessions') ?? defaultSessions(defaultBatching(manifest), threads));
  const base = {
    artifact,
    peersDir,
    threads,
    tridentSessions,
    microBatch: Number(a.get('micro-batch') ?? 64),
    inFlight: Number(a.get('in-flight') ?? 2),
    peerSettings: (a.get('peer-settings') ?? 'same') as 'same' | 'defaults',
    texts: benchTexts(count),
    casedTexts: casedTexts(a.get('cased-file')).slice(0, Number(a.get('agreement-texts') ?? 256)),
  };
  console.log(
    `artifact ${manifest.name}-${manifest.version}; peers ${peersDir}; ${count} texts + 1 question each; ` +
      `${threads} intra-op threads per side (${os.cpus().length} cores): Trident ${tridentSessions} encoder session(s) × ${Math.max(1, Math.floor(threads / tridentSessions))}, ` +
      `peer ${threads} per pipeline's session; Trident's spinning ${modelConfigFromEnv().ortSpinning ? 'on' : 'off'}, ` +
      `peer: ${base.peerSettings === 'same' ? "Trident's session settings" : "Transformers.js' defaults (ORT spinning on)"}`,
  );
  // Sides alternate so that machine noise hits both alike; each keeps its fastest run, and the
  // largest peak RSS of its runs.
  const repeat = Number(a.get('repeat') ?? 2);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'trident-peers-'));
  const runs: { trident: SideResult[]; peer: SideResult[] } = { trident: [], peer: [] };
  try {
    for (let r = 0; r < repeat; r++) {
      runs.trident.push(runChild({ ...base, side: 'trident' }, scratch));
      runs.peer.push(runChild({ ...base, side: 'peer' }, scratch));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const fastest = (list: SideResult[]): SideResult => list.reduce((x, y) => (y.seconds < x.seconds ? y : x));
  const trident = fastest(runs.trident);
  const peer = fastest(runs.peer);
  const perText = runs.trident.map((r) => r.perText!).reduce((x, y) => (y.seconds < x.seconds ? y : x));
  const peakRss = (list: SideResult[]): number => Math.max(...list.map((r) => r.maxRssKb)) * 1024;

  const row = (texts: number, seconds: number, latenciesMs: number[], rssBytes: number, loadMs: number) => ({
    textsPerSecond: texts / seconds,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    rssBytes,
    loadMs,
  });
  const t = row(trident.texts, trident.seconds, trident.latenciesMs, peakRss(runs.trident), trident.loadMs);
  const t1 = row(trident.texts, perText.seconds, perText.latenciesMs, peakRss(runs.trident), trident.loadMs);
  const p = row(peer.texts, peer.seconds, peer.latenciesMs, peakRss(runs.peer), peer.loadMs);
  const line = (name: string, r: ReturnType<typeof row>): string =>
    `${name.padEnd(52)} ${fmt(r.textsPerSecond).padStart(8)} ${fmt(r.p50Ms).padStart(9)} ${fmt(r.p99Ms).padStart(9)} ${mb(r.rssBytes).padStart(9)} ${fmt(r.loadMs, 0).padStart(8)}`;
  console.log(`\nbest of ${repeat} per side (alternating fresh processes)`);
  console.log(`${'side'.padEnd(52)}  texts/s  p50 (ms)  p99 (ms)  peak RSS  load ms`);
  console.log(line(`Trident, 1 pipeline, ${base.microBatch}-input calls, ${base.inFlight} in flight`, t));
  console.log(line('Trident, same process, one text per call', t1));
  console.log(line('Transformers.js, 4 pipelines, one text per call', p));
  const ratios = {
    textsPerSecond: t.textsPerSecond / p.textsPerSecond,
    textsPerSecondOneTextPerCall: t1.textsPerSecond / p.textsPerSecond,
    rss: t.rssBytes / p.rssBytes,
    p50OneTextPerCall: t1.p50Ms / p.p50Ms,
    p99OneTextPerCall: t1.p99Ms / p.p99Ms,
  };
  console.log(
    `Trident ÷ peer: texts/s ${fmt(ratios.textsPerSecond, 2)}× (goal ≥ 3; one text per call ${fmt(ratios.textsPerSecondOneTextPerCall, 2)}×), ` +
      `RSS ${fmt(ratios.rss, 2)}× (goal ≤ 0.4), p50 ${fmt(ratios.p50OneTextPerCall, 2)}×, p99 ${fmt(ratios.p99OneTextPerCall, 2)}× (one text per call; ` +
      `in ${base.microBatch}-input calls a text waits for its whole call)`,
  );
  const onBench = agreement(trident.outputs, peer.outputs);
  const onCased = agreement(trident.cased, peer.cased);
  const casingOnly = agreement(trident.cased, trident.lowered!);
  const decodingOnly = agreement(trident.lowered!, peer.cased);
  const pct = (r: Record<string, number>): string =>
    Object.entries(r)
      .map(([k, v]) => `${k} ${fmt(100 * v)} %`)
      .join(', ');
  console.log('\nsame decision, share of texts (entities: the same list of label:text):');
  console.log(`  bench texts, Trident vs peer                          ${pct(onBench)}`);
  console.log(`  ${base.casedTexts.length} cased texts, Trident vs peer                   ${pct(onCased)}`);
  console.log(`    casing alone: Trident vs Trident on lower-cased text ${pct(casingOnly)}`);
  console.log(`    decoding alone: Trident on lower-cased text vs peer  ${pct(decodingOnly)}`);
  const nulls = trident.outputs.filter((o) => o.answer === null).length;
  const answered = trident.outputs.map((o, i) => [o, peer.outputs[i]] as const).filter(([o]) => o.answer !== null);
  const sameAnswered = answered.filter(([o, q]) => o.answer === q.answer).length / Math.max(1, answered.length);
  console.log(
    `  answers where Trident answered (${answered.length} of ${count} bench texts; it says "no answer" below ` +
      `no_answer_threshold, the peer always answers): ${fmt(100 * sameAnswered)} % the same`,
  );
  const show = Number(a.get('show') ?? 0);
  if (show > 0) {
    console.log(`\nfirst ${show} cased texts where the entities differ (Trident on the original | on lower case | peer):`);
    for (const i of trident.cased
      .map((_, i) => i)
      .filter((i) => trident.cased[i].entities.join('|') !== peer.cased[i].entities.join('|'))
      .slice(0, show))
      console.log(
        `  ${base.casedTexts[i]}\n    ${trident.cased[i].entities.join(' ')} | ${trident.lowered![i].entities.join(' ')} | ${peer.cased[i].entities.join(' ')}`,
      );
  }

  const resultsDir = path.join(REPO, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `peers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const { texts: _t, casedTexts: _c, ...settings } = base;
  writeFileSync(
    file,
    JSON.stringify(
      {
        bench: 'peers',
        date: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
        artifact: `${manifest.name}-${manifest.version}`,
        settings: { ...settings, texts: count, agreementTexts: base.casedTexts.length, casedFile: a.get('cased-file') ?? null },
        repeat,
        trident: t,
        tridentOneTextPerCall: t1,
        peer: p,
        ratios,
        agreement: {
          bench: onBench,
          cased: onCased,
          casingOnly,
          decodingOnly,
          tridentNoAnswers: nulls,
          answersWhereTridentAnswered: sameAnswered,
        },
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${path.relative(REPO, file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
