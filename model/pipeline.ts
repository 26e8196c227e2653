import * as path from 'node:path';
import { ModelArtifactError, TridentError } from '../common/errors';
import { aggregateWords } from './decode/aggregate';
import { decodeBio } from './decode/bio';
import { bestAcrossWindows, bestSpanInWindow } from './decode/qa';
import { argmax, softmax } from './decode/softmax';
import { Encoder, EncoderFeeds, EncoderOptions, WorkerEncoder } from './encoder';
import { Head, loadHeads, runHead } from './heads';
import { LoadedManifest, Manifest, loadManifest, readVerified } from './manifest';
import type { TaskName } from '../common/tasks';
import { caseIdsOf, TextTokenizer, TokenizedText } from './tokenize';
import type { AnswerResult, CategoryResult, EntityResult, PredictInput, PredictOutput } from './types';
import { checkTasks, DEFAULT_LIMITS, InputLimits, validateInput } from './validate';
import { bestWindowPerToken, EncoderRow, questionRows, textRows } from './windows';

export interface PipelineOptions extends EncoderOptions, Partial<InputLimits> {
  /** Most rows (windows) per encoder batch. Default 32. */
  batchSize?: number;
  /** Most padded tokens (rows × longest row) per batch. Default 8192. */
  maxBatchTokens?: number;
  /** `sorted`: rows grouped by length so batches pad little (default); `arrival`: input order. */
  padding?: 'sorted' | 'arrival';
  /**
   * `per-input` (default): a batch holds only one input's text windows, or only its question
   * windows, exactly as the Python reference batches (inference.py). int8 *dynamic* quantisation
   * scales activations per batch tensor, so with `mixed` a text's outputs depend on its batch
   * neighbours (measured on trident-multitask-1.0.0, 256 SST-2 texts: top category differs for 14 %,
   * answer span for 15 %, sentiment label for 3 %; fp32: no difference at all). `per-input` makes
   * every output a function of its input alone (replay, evaluation, parity).
   * `mixed`: rows of all inputs of a call share batches, sorted by length — up to ~25 % more
   * texts/s on short texts, at the price of that dependence.
   */
  batching?: 'mixed' | 'per-input';
  /** An already-open encoder (tests, benchmarks); default: a WorkerEncoder on the manifest's file. */
  encoder?: Encoder;
}

/** Where the time of the last `run` went (benchmarks, metrics). */
export interface RunStats {
  inputs: number;
  rows: number;
  batches: number;
  realTokens: number;
  paddedTokens: number;
  tokenizeMs: number;
  encoderMs: number;
  headsMs: number;
  totalMs: number;
}

/** Everything a text accumulates while its rows come back from the encoder. */
interface TextState {
  input: PredictInput;
  tokens: TokenizedText;
  caseIds: Int32Array | null;
  /** Per content token `[row, position]` of the window it is taken from (entities). */
  choice: Int32Array | null;
  /** Per content token × entity label probabilities. */
  tokenProbs: Float64Array | null;
  pooled: Map<string, Float64Array[]>;
  questions: Array<{ question: string; ids: Int32Array; caseIds: Int32Array | null; best: Array<{ score: number; start: number; end: number } | null> }>;
}

interface RowJob {
  row: EncoderRow;
  caseIds: Int32Array | null;
  text: TextState;
  /** -1 for a text window; else the question index. */
  question: number;
  /** Index of this row among the text's (or the question's) rows. */
  window: number;
}

/**
 * Tokenizer → one shared encoder → task heads → decoding. Load once, share across all tasks; the
 * encoder runs in a worker thread. Heads can be swapped without reloading the encoder.
 */
export class Pipeline {
  private heads: Map<string, Head>;
  private headsManifest: Manifest;
  private readonly limits: InputLimits;
  /** Timings of the most recent `run`. */
  lastRun: RunStats | null = null;

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    private readonly tokenizer: TextTokenizer,
    private readonly encoder: Encoder,
    heads: Map<string, Head>,
    private readonly options: PipelineOptions,
  ) {
    this.heads = heads;
    this.headsManifest = manifest;
    this.limits = { ...DEFAULT_LIMITS, ...pickLimits(options) };
  }

  /**
   * Loads an artifact folder: reads and validates manifest.json, verifies every file's sha256,
   * loads the tokenizer and heads, starts the encoder worker and checks the session's input and
   * output names against the manifest. Blocks briefly while it hashes and parses files (tens of ms
   * for a 25 MB encoder); the session loads in the worker. Throws ModelArtifactError naming the file.
   */
  static async load(dir: string, options: PipelineOptions = {}): Promise<Pipeline> {
    const loaded = loadManifest(dir);
    const { manifest } = loaded;
    readVerified(loaded.dir, manifest.tokenizer.file, manifest.tokenizer.sha256);
    const tokenizer = TextTokenizer.fromFile(path.join(loaded.dir, manifest.tokenizer.file));
    const encoderFile = path.join(loaded.dir, manifest.encoder.file);
    readVerified(loaded.dir, manifest.encoder.file, manifest.encoder.sha256);
    const known = new Set(['input_ids', 'attention_mask', 'token_type_ids', ...(manifest.casing ? [manifest.casing.input] : [])]);
    for (const name of manifest.encoder.inputs) {
      if (!known.has(name)) throw new ModelArtifactError(encoderFile, `manifest names encoder input ${name}, which the runtime cannot feed`);
    }
    const heads = loadHeads(loaded);
    const encoder = options.encoder ?? (await WorkerEncoder.open(encoderFile, options));
    try {
      checkSessionNames(encoder, manifest, encoderFile);
    } catch (error) {
      if (!options.encoder) await encoder.close();
      throw error;
    }
    return new Pipeline(loaded.dir, manifest, tokenizer, encoder, heads, options);
  }

  /** Tasks this artifact can serve. */
  get tasks(): TaskName[] {
    const tasks = new Set<TaskName>();
    for (const head of this.heads.values()) tasks.add(head.spec.task);
    return [...tasks];
  }

  /** Names of the categories heads, in manifest order. */
  get categoryHeads(): string[] {
    return [...this.heads.values()].filter((h) => h.spec.task === 'categories').map((h) => h.name);
  }

  /**
   * Replaces the heads with those of another artifact folder (or an already-loaded manifest) built
   * on the same encoder and tokenizer; the encoder session stays loaded. Runs already started keep
   * the heads they started with. Blocks while it reads the head files. Throws ModelArtifactError
   * when a digest, a shape, or the encoder/tokenizer digest differs.
   */
  swapHeads(source: string | LoadedManifest): void {
    const loaded = typeof source === 'string' ? loadManifest(source) : source;
    const file = path.join(loaded.dir, 'manifest.json');
    const { manifest } = loaded;
    if (manifest.encoder.sha256 !== this.manifest.encoder.sha256 || manifest.tokenizer.sha256 !== this.manifest.tokenizer.sha256) {
      throw new ModelArtifactError(file, 'heads were trained for another encoder or tokenizer (sha256 differs); load a new Pipeline instead');
    }
    if (manifest.max_length !== this.manifest.max_length || manifest.stride !== this.manifest.stride) {
      throw new ModelArtifactError(file, 'max_length/stride differ from the loaded encoder');
    }
    this.heads = loadHeads(loaded);
    this.headsManifest = manifest;
  }

  /** The manifest the current heads come from (differs from `manifest` after swapHeads). */
  get headsSource(): Manifest {
    return this.headsManifest;
  }

  /** Validates, tokenises and windows the inputs; groups rows into batches. */
  private async plan(inputs: readonly PredictInput[], tasks: readonly string[]) {
    const wanted = new Set(checkTasks(tasks, String(inputs[0]?.id)));
    const checked = inputs.map((input) => validateInput(input, tasks, this.limits));
    const heads = this.heads;
    const available = new Set([...heads.values()].map((h) => h.spec.task));
    for (const task of wanted) {
      if (!available.has(task)) {
        throw new TridentError('MODEL_TASK_UNAVAILABLE', `artifact ${this.manifest.name}-${this.manifest.version} has no ${task} head`);
      }
    }
    const m = this.manifest;
    const casing = m.casing ? m.casing.input : null;
    const pooledHeads = [...heads.values()].filter(
      (h) => (h.spec.task === 'sentiment' && wanted.has('sentiment')) || (h.spec.task === 'categories' && wanted.has('categories')),
    );
    const entitiesHead = wanted.has('entities') ? heads.get('entities')! : null;
    const answersHead = wanted.has('answers') ? heads.get('answers')! : null;
    const needTextRows = pooledHeads.length > 0 || entitiesHead !== null;

    // 1. Tokenise every text and question once.
    const tokenizeStarted = performance.now();
    const tokenized = await this.tokenizer.tokenizeBatch(checked.map((i) => i.text));
    const questionTexts = answersHead ? checked.flatMap((i) => i.questions ?? []) : [];
    const questionTokens = await this.tokenizer.tokenizeBatch(questionTexts);
    const tokenizeMs = performance.now() - tokenizeStarted;

    // 2. Windows → rows.
    const jobs: RowJob[] = [];
    let q = 0;
    const texts: TextState[] = checked.map((input, i) => {
      const tokens = tokenized[i];
      const caseIds = casing ? caseIdsOf(tokens) : null;
      const state: TextState = { input, tokens, caseIds, choice: null, tokenProbs: null, pooled: new Map(), questions: [] };
      if (needTextRows) {
        const rows = textRows(tokens.ids, m.max_length, m.stride, this.tokenizer.specials);
        rows.forEach((row, w) => jobs.push({ row, caseIds: caseIds ? rowCaseIds(row, caseIds, null) : null, text: state, question: -1, window: w }));
        if (entitiesHead) {
          state.choice = bestWindowPerToken(rows, tokens.ids.length);
          state.tokenProbs = new Float64Array(tokens.ids.length * entitiesHead.spec.labels.length);
        }
        for (const head of pooledHeads) state.pooled.set(head.name, new Array<Float64Array>(rows.length));
      }
      if (answersHead && answersHead.spec.task === 'answers') {
        for (const question of input.questions ?? []) {
          const qt = questionTokens[q++];
          const qCase = casing ? caseIdsOf(qt) : null;
          const maxQ = answersHead.spec.max_question_tokens;
          const rows = questionRows(qt.ids, tokens.ids, m.max_length, m.stride, maxQ, this.tokenizer.specials);
          const qi = state.questions.length;
          state.questions.push({ question, ids: qt.ids, caseIds: qCase, best: new Array(rows.length).fill(null) });
          rows.forEach((row, w) =>
            jobs.push({ row, caseIds: caseIds ? rowCaseIds(row, caseIds, qCase, Math.min(qt.ids.length, maxQ)) : null, text: state, question: qi, window: w }),
          );
        }
      }
      return state;
    });

    // 3. Batches.
    const textIndex = new Map(texts.map((t, i) => [t, i]));
    const batches = makeBatches(
      jobs,
      this.options.batchSize ?? 32,
      this.options.maxBatchTokens ?? 8192,
      this.options.padding ?? 'sorted',
      (this.options.batching ?? 'per-input') === 'per-input' ? (job) => 2 * textIndex.get(job.text)! + (job.question < 0 ? 0 : 1) : undefined,
    );
    return { texts, jobs, batches, wanted, pooledHeads, entitiesHead, answersHead, casing, tokenizeMs };
  }

  /**
   * The exact encoder batches `run` would send for these inputs, without running them (benchmarks
   * compare the pipeline with the bare encoder on the same rows). Throws what `run` throws on input.
   */
  async plannedFeeds(inputs: readonly PredictInput[], tasks: readonly string[]): Promise<EncoderFeeds[]> {
    if (inputs.length === 0) return [];
    const { batches, casing } = await this.plan(inputs, tasks);
    return batches.map((batch) => this.feeds(batch, casing).feeds);
  }

  /**
   * Runs the requested tasks over a batch of inputs; one output per input, same order, same id,
   * with only the requested tasks present. One encoder pass per text window serves sentiment,
   * entities and categories; each question adds one pass per (question, context window).
   * Does not block the event loop for long (inference in the worker; tokenisation on libuv's pool;
   * heads and decoding run here, a few ms per batch). Throws InvalidInputError naming the input
   * (empty text, too long, bad questions, unknown task) before any work; TridentError
   * MODEL_TASK_UNAVAILABLE when the artifact has no head for a task; MODEL_ENCODER_BUSY
   * (retriable) when the encoder queue is full.
   */
  async run(inputs: readonly PredictInput[], tasks: readonly string[]): Promise<PredictOutput[]> {
    const started = performance.now();
    if (inputs.length === 0) return [];
    const plan = await this.plan(inputs, tasks);
    const { texts, jobs, batches, wanted, pooledHeads, entitiesHead, answersHead, casing, tokenizeMs } = plan;
    const m = this.manifest;
    const stats: RunStats = {
      inputs: inputs.length, rows: jobs.length, batches: batches.length, realTokens: 0, paddedTokens: 0,
      tokenizeMs, encoderMs: 0, headsMs: 0, totalMs: 0,
    };
    const output = m.encoder.outputs[0];
    const pending: Array<Promise<void>> = [];
    const process = async (batch: RowJob[]): Promise<void> => {
      const { feeds, seq } = this.feeds(batch, casing);
      stats.realTokens += batch.reduce((n, j) => n + j.row.ids.length, 0);
      stats.paddedTokens += batch.length * seq;
      const result = await this.encoder.run(feeds, output);
      stats.encoderMs += result.ms;
      const headsStarted = performance.now();
      this.applyHeads(batch, result.data, seq, pooledHeads, entitiesHead, answersHead);
      stats.headsMs += performance.now() - headsStarted;
    };
    // Enough batches in flight that the worker never waits on us (several when batches are tiny, as
    // with per-input batching), few enough that memory stays bounded: ≤ 8 batches and ≤ two full
    // batches' worth of padded tokens.
    const tokenBudget = 2 * (this.options.maxBatchTokens ?? 8192);
    const inFlightTokens: number[] = [];
    try {
      for (const batch of batches) {
        const tokens = batch.length * Math.max(...batch.map((j) => j.row.ids.length));
        while (pending.length >= 8 || (pending.length > 0 && inFlightTokens.reduce((a, b) => a + b, 0) + tokens > tokenBudget)) {
          await pending.shift();
          inFlightTokens.shift();
        }
        inFlightTokens.push(tokens);
        const running = process(batch);
        running.catch(() => undefined); // observed below; never an unhandled rejection
        pending.push(running);
      }
      await Promise.all(pending);
    } catch (error) {
      await Promise.allSettled(pending); // let the worker finish what it holds before reporting
      throw error;
    }

    // 4. Per text: combine windows, decode.
    const headsStarted = performance.now();
    const results = texts.map((state) => this.finish(state, wanted, pooledHeads, entitiesHead, answersHead));
    stats.headsMs += performance.now() - headsStarted;
    stats.totalMs = performance.now() - started;
    this.lastRun = stats;
    return results;
  }

  private feeds(batch: RowJob[], casing: string | null): { feeds: EncoderFeeds; seq: number } {
    return batchFeeds(batch, this.manifest.encoder.inputs, this.tokenizer.specials.pad, casing);
  }

  private applyHeads(
    batch: RowJob[],
    hidden: Float32Array,
    seq: number,
    pooledHeads: Head[],
    entitiesHead: Head | null,
    answersHead: Head | null,
  ): void {
    const h = this.manifest.encoder.hidden_size;
    // Pooled heads run once per batch over all its text windows (one matrix, not one call per row).
    const textRowsOfBatch = batch.map((job, b) => ({ job, b })).filter(({ job }) => job.question < 0);
    if (textRowsOfBatch.length > 0) {
      for (const head of pooledHeads) {
        const labels = head.spec.labels.length;
        const pooled = new Float32Array(textRowsOfBatch.length * h);
        textRowsOfBatch.forEach(({ job, b }, k) => pool(hidden, b * seq * h, job.row.ids.length, h, head.spec.pooling === 'mean', pooled, k * h));
        const logits = runHead(head, pooled, textRowsOfBatch.length);
        textRowsOfBatch.forEach(({ job }, k) => (job.text.pooled.get(head.name)![job.window] = softmax(logits, k * labels, labels)));
      }
    }
    batch.forEach((job, b) => {
      const base = b * seq * h;
      const len = job.row.ids.length;
      const state = job.text;
      if (job.question < 0) {
        if (entitiesHead && state.choice && state.tokenProbs) {
          // Only the positions this window owns (a contiguous range) go through the head.
          let first = -1;
          let last = -1;
          for (let p = 0; p < len; p++) {
            const t = job.row.tokenIndex[p];
            if (t >= 0 && state.choice[2 * t] === job.window) {
              if (first < 0) first = p;
              last = p;
            }
          }
          if (first >= 0) {
            const labels = entitiesHead.spec.labels.length;
            const logits = runHead(entitiesHead, hidden, last - first + 1, base + first * h);
            for (let p = first; p <= last; p++) {
              const t = job.row.tokenIndex[p];
              state.tokenProbs.set(softmax(logits, (p - first) * labels, labels), t * labels);
            }
          }
        }
      } else if (answersHead && answersHead.spec.task === 'answers') {
        const logits = runHead(answersHead, hidden, len, base);
        const startLogits = new Float64Array(len);
        const endLogits = new Float64Array(len);
        const isContext = new Uint8Array(len);
        for (let p = 0; p < len; p++) {
          startLogits[p] = logits[2 * p];
          endLogits[p] = logits[2 * p + 1];
          isContext[p] = job.row.tokenIndex[p] >= 0 ? 1 : 0;
        }
        const best = bestSpanInWindow(startLogits, endLogits, isContext, answersHead.spec.max_answer_tokens);
        state.questions[job.question].best[job.window] = best && {
          score: best.score,
          start: job.row.tokenIndex[best.start],
          end: job.row.tokenIndex[best.end],
        };
      }
    });
  }

  private finish(
    state: TextState,
    wanted: Set<TaskName>,
    pooledHeads: Head[],
    entitiesHead: Head | null,
    answersHead: Head | null,
  ): PredictOutput {
    const out: PredictOutput = { id: state.input.id };
    const { text } = state.input;
    for (const head of pooledHeads) {
      const probs = meanOf(state.pooled.get(head.name)!);
      const labels = head.spec.labels;
      if (head.spec.task === 'sentiment') {
        const scores: Record<string, number> = {};
        labels.forEach((label, k) => (scores[label] = probs[k]));
        out.sentiment = { label: labels[argmax(probs)], scores };
      } else {
        const ranked: CategoryResult[] = labels.map((label, k) => ({ label, score: probs[k] }));
        // Stable sort: equal scores keep label order, as numpy's argsort(kind="stable") on -p would.
        ranked.sort((a, b) => b.score - a.score);
        const topK = head.spec.task === 'categories' && 'top_k' in head.spec ? head.spec.top_k : undefined;
        (out.categories ??= {})[head.name] = ranked.slice(0, topK ?? 5);
      }
    }
    if (entitiesHead && entitiesHead.spec.task === 'entities' && state.tokenProbs) {
      const labels = entitiesHead.spec.labels;
      const { offsets, wordIds } = state.tokens;
      const words = aggregateWords(state.tokenProbs, labels.length, wordIds, entitiesHead.spec.aggregation).map((w) => ({
        label: labels[w.labelIndex],
        score: w.score,
        start: offsets[2 * w.firstToken],
        end: offsets[2 * w.lastToken + 1],
      }));
      out.entities = decodeBio(words).map((e): EntityResult => ({ label: e.label, text: text.slice(e.start, e.end), start: e.start, end: e.end, score: e.score }));
    }
    if (answersHead && answersHead.spec.task === 'answers') {
      const threshold = answersHead.spec.no_answer_threshold;
      const { offsets } = state.tokens;
      out.answers = state.questions.map(({ question, best: windows }): AnswerResult => {
        const best = bestAcrossWindows(windows);
        if (best === null || best.score < threshold) return { question, answer: null, start: null, end: null, score: best?.score ?? 0 };
        const start = offsets[2 * best.start];
        const end = offsets[2 * best.end + 1];
        return { question, answer: text.slice(start, end), start, end, score: best.score };
      });
    }
    // Keys in the contract's order (sentiment, entities, answers, categories) for readable JSON.
    const { sentiment, entities, answers, categories } = out;
    return {
      id: out.id,
      ...(sentiment && { sentiment }),
      ...(entities && { entities }),
      ...(answers && { answers }),
      ...(wanted.has('categories') && { categories: categories ?? {} }),
    };
  }

  /** Stops the encoder worker. Pending runs reject. */
  async close(): Promise<void> {
    await this.encoder.close();
  }
}

/**
 * int64 encoder inputs for a batch of rows, padded to the longest row (pad id, mask 0, type 0,
 * case 0). Only the names in `inputNames` are returned. Pure.
 */
export function batchFeeds(
  batch: ReadonlyArray<{ row: EncoderRow; caseIds: Int32Array | null }>,
  inputNames: readonly string[],
  padId: number,
  casing: string | null,
): { feeds: EncoderFeeds; seq: number } {
  const seq = Math.max(...batch.map((j) => j.row.ids.length));
  const n = batch.length * seq;
  // Written through Int32 views (low word = value, high word = 0: all values are small and
  // non-negative, little-endian): no BigInt per element, so no garbage.
  const all: Record<string, BigInt64Array> = {
    input_ids: new BigInt64Array(n),
    attention_mask: new BigInt64Array(n),
    token_type_ids: new BigInt64Array(n),
  };
  if (casing) all[casing] = new BigInt64Array(n);
  const ids32 = new Int32Array(all.input_ids.buffer);
  const mask32 = new Int32Array(all.attention_mask.buffer);
  const types32 = new Int32Array(all.token_type_ids.buffer);
  const case32 = casing ? new Int32Array(all[casing].buffer) : null;
  if (padId !== 0) for (let k = 0; k < n; k++) ids32[2 * k] = padId;
  batch.forEach((job, b) => {
    const { ids, typeIds } = job.row;
    for (let p = 0; p < ids.length; p++) {
      const k = 2 * (b * seq + p);
      ids32[k] = ids[p];
      mask32[k] = 1;
      types32[k] = typeIds[p];
      if (case32 && job.caseIds) case32[k] = job.caseIds[p];
    }
  });
  const feeds: EncoderFeeds = {};
  for (const name of inputNames) feeds[name] = { data: all[name], dims: [batch.length, seq] };
  return { feeds, seq };
}

function pickLimits(options: Partial<InputLimits>): Partial<InputLimits> {
  const limits: Partial<InputLimits> = {};
  if (options.maxChars !== undefined) limits.maxChars = options.maxChars;
  if (options.maxQuestions !== undefined) limits.maxQuestions = options.maxQuestions;
  if (options.maxQuestionChars !== undefined) limits.maxQuestionChars = options.maxQuestionChars;
  return limits;
}

/** The session's input names must equal the manifest's, and its outputs must include the manifest's. */
function checkSessionNames(encoder: Encoder, manifest: Manifest, file: string): void {
  const expected = [...manifest.encoder.inputs].sort().join(', ');
  const actual = [...encoder.inputNames].sort().join(', ');
  if (expected !== actual) throw new ModelArtifactError(file, `session inputs are [${actual}], manifest.json says [${expected}]`);
  for (const name of manifest.encoder.outputs) {
    if (!encoder.outputNames.includes(name)) {
      throw new ModelArtifactError(file, `session has no output ${name} (outputs: ${encoder.outputNames.join(', ')})`);
    }
  }
}

/** Case ids per row position: content tokens from the text, question tokens (positions 1..q) from the question, 0 for specials. */
function rowCaseIds(row: EncoderRow, textCase: Int32Array, questionCase: Int32Array | null, q = 0): Int32Array {
  const out = new Int32Array(row.ids.length);
  for (let p = 0; p < out.length; p++) if (row.tokenIndex[p] >= 0) out[p] = textCase[row.tokenIndex[p]];
  if (questionCase) for (let i = 0; i < q; i++) out[1 + i] = questionCase[i];
  return out;
}

/** Writes the CLS vector (position 0), or the mean over the window's real positions, into `out` at `at`. */
function pool(hidden: Float32Array, base: number, len: number, h: number, mean: boolean, out: Float32Array, at: number): void {
  if (!mean) {
    out.set(hidden.subarray(base, base + h), at);
    return;
  }
  const sums = new Float64Array(h);
  for (let p = 0; p < len; p++) for (let k = 0; k < h; k++) sums[k] += hidden[base + p * h + k];
  for (let k = 0; k < h; k++) out[at + k] = sums[k] / len;
}

function meanOf(vectors: Float64Array[]): Float64Array {
  const out = new Float64Array(vectors[0].length);
  for (const v of vectors) for (let k = 0; k < v.length; k++) out[k] += v[k] / vectors.length;
  return out;
}

/**
 * Groups rows into batches. `sorted`: by length (stable), then batches of up to `batchSize` rows,
 * fewer when `maxTokens / longest` is smaller, where `longest` is the last row a full batch would
 * take (the rule of training/trident_training/inference.py `run_windows`, so batches can match the
 * Python reference exactly). `arrival`: input order, cut greedily at either limit. With `group`,
 * no batch mixes groups (groups in order of first appearance). Pure.
 */
export function makeBatches<T extends { row: EncoderRow }>(
  jobs: T[],
  batchSize: number,
  maxTokens: number,
  padding: 'sorted' | 'arrival',
  group?: (job: T) => number,
): T[][] {
  if (group) {
    const groups = new Map<number, T[]>();
    for (const job of jobs) {
      const key = group(job);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(job);
    }
    return [...groups.values()].flatMap((g) => makeBatches(g, batchSize, maxTokens, padding));
  }
  const batches: T[][] = [];
  if (padding === 'sorted') {
    const ordered = [...jobs].sort((a, b) => a.row.ids.length - b.row.ids.length);
    for (let pos = 0; pos < ordered.length; ) {
      const longest = ordered[Math.min(pos + batchSize, ordered.length) - 1].row.ids.length;
      const n = Math.max(1, Math.min(batchSize, Math.floor(maxTokens / Math.max(longest, 1))));
      batches.push(ordered.slice(pos, pos + n));
      pos += n;
    }
    return batches;
  }
  let current: T[] = [];
  let longest = 0;
  for (const job of jobs) {
    const len = job.row.ids.length;
    if (current.length > 0 && (current.length >= batchSize || Math.max(longest, len) * (current.length + 1) > maxTokens)) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(job);
    longest = Math.max(longest, len);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
