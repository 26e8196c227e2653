import * as os from 'node:os';
import * as path from 'node:path';
import { ModelArtifactError, TridentError } from '../common/errors';
import { modelErrorCodes } from '../common/error-codes';
import type { TaskName } from '../common/tasks';
import { batchFeeds } from './batches';
import type { RowJob, TaskDecoder } from './decoders';
import { Encoder, EncoderFeeds, EncoderOptions, openEncoder } from './encoder';
import { FeatureDecoder, FeatureRequest, TextFeatures } from './feature-decoder';
import { Head, loadHeads } from './heads';
import { LoadedManifest, Manifest, isBatchIndependent, loadManifest, readVerified } from './manifest';
import { planRun, RunPlan } from './plan';
import { TextTokenizer } from './tokenize';
import type { PredictInput, PredictOutput } from './types';
import { DEFAULT_LIMITS, InputLimits } from './validate';

export interface PipelineOptions extends EncoderOptions, Partial<InputLimits> {
  /** Most rows (windows) per encoder batch. Default 32. */
  batchSize?: number;
  /** Most padded tokens (rows × longest row) per batch. Default 8192. */
  maxBatchTokens?: number;
  /** `sorted`: rows grouped by length so batches pad little (default); `arrival`: input order. */
  padding?: 'sorted' | 'arrival';
  /**
   * Default: the artifact's (`defaultBatching`): `mixed` when its manifest says the encoder's
   * outputs are batch-independent (static int8), else `per-input`.
   * `per-input`: a batch holds only one input's text windows, or only its question
   * windows, exactly as the Python reference batches (inference.py). int8 *dynamic* quantisation
   * scales activations per batch tensor, so with `mixed` a text's outputs depend on its batch
   * neighbours (measured on trident-multitask-1.0.0, 256 SST-2 texts: top category differs for 14 %,
   * answer span for 15 %, sentiment label for 3 %; fp32: no difference at all). `per-input` makes
   * every output a function of its input alone (replay, evaluation, parity).
   * `mixed`: rows of all inputs of a call share batches, sorted by length — up to ~25 % more
   * texts/s on short texts, at the price of that dependence.
   */
  batching?: 'mixed' | 'per-input';
  /** An already-open encoder (tests, benchmarks); default: `openEncoder` on the manifest's file (`sessions` of them). */
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
      if (!known.has(name))
        throw new ModelArtifactError(encoderFile, `manifest names encoder input ${name}, which the runtime cannot feed`);
    }
    const heads = loadHeads(loaded);
    const sessions = options.sessions ?? defaultSessions(options.batching ?? defaultBatching(manifest));
    options = { ...options, sessions };
    const encoder = options.encoder ?? (await openEncoder(encoderFile, options));
    try {
      checkSessionNames(encoder, manifest, encoderFile);
    } catch (error) {
      if (!options.encoder) await encoder.close();
      throw error;
    }
    return new Pipeline(loaded.dir, manifest, tokenizer, encoder, heads, options);
  }

  /** How this pipeline batches inputs: the option when given, else the artifact's default. */
  get batching(): 'mixed' | 'per-input' {
    return this.options.batching ?? defaultBatching(this.manifest);
  }

  /** Encoder sessions (configured, else `defaultSessions` of the batching). */
  get sessions(): number {
    return this.options.sessions ?? defaultSessions(this.batching);
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
      throw new ModelArtifactError(
        file,
        'heads were trained for another encoder or tokenizer (sha256 differs); load a new Pipeline instead',
      );
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

  /** Validates, tokenises and windows the inputs; sets up each task's decoder (or `custom`); groups rows into batches. */
  private plan(inputs: readonly PredictInput[], tasks: readonly string[], custom?: FeatureDecoder): Promise<RunPlan> {
    return planRun(
      inputs,
      tasks,
      {
        manifest: this.manifest,
        heads: this.heads,
        tokenizer: this.tokenizer,
        limits: this.limits,
        batching: {
          batchSize: this.options.batchSize ?? 32,
          maxBatchTokens: this.options.maxBatchTokens ?? 8192,
          padding: this.options.padding ?? 'sorted',
          batching: this.batching,
        },
      },
      custom && [custom],
    );
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
    // tokenizer → rows and batches
    const { texts, jobs, batches, wanted, decoders, casing, tokenizeMs } = await this.plan(inputs, tasks);
    const stats = startStats(inputs.length, jobs.length, batches.length, tokenizeMs);
    await this.encodeAll(batches, decoders, casing, stats);

    // decoders: per text, combine windows and decode each task.
    const headsStarted = performance.now();
    const results = texts.map((text) => {
      const out: PredictOutput = { id: text.input.id };
      for (const decoder of decoders) decoder.finish(text, out);
      return inContractOrder(out, wanted);
    });
    stats.headsMs += performance.now() - headsStarted;
    stats.totalMs = performance.now() - started;
    this.lastRun = stats;
    return results;
  }

  /**
   * The encoder's hidden states for each input, in the shapes the heads read them (the learner trains
   * heads on these): per text window the CLS and mean vectors, per token its vector from its best
   * window, per question row every position's vector. Tokenisation, windows, casing ids and batching
   * are those of `run` with the tasks that read the same rows (sentiment/categories/entities for
   * text windows, answers for question rows), so the features equal what those heads see in
   * production. Does not block the event loop for long; throws what `run` throws on input, and
   * TridentError MODEL_TASK_UNAVAILABLE for question features when the artifact has no answers head
   * (its max_question_tokens cuts the questions).
   */
  async features(inputs: readonly PredictInput[], request: FeatureRequest): Promise<TextFeatures[]> {
    if (inputs.length === 0) return [];
    const answers = [...this.heads.values()].find((h) => h.spec.task === 'answers');
    if (request.questions && answers?.spec.task !== 'answers')
      throw new TridentError(
        modelErrorCodes.MODEL_TASK_UNAVAILABLE,
        `artifact ${this.manifest.name}-${this.manifest.version} has no answers head`,
      );
    const decoder = new FeatureDecoder(
      request,
      this.manifest.encoder.hidden_size,
      answers?.spec.task === 'answers' ? answers.spec.max_question_tokens : 0,
    );
    // The tasks only validate the inputs here (questions are checked either way).
    const { texts, batches, jobs, casing, tokenizeMs } = await this.plan(inputs, request.questions ? ['answers'] : ['sentiment'], decoder);
    const started = performance.now();
    const stats = startStats(inputs.length, jobs.length, batches.length, tokenizeMs);
    await this.encodeAll(batches, [decoder], casing, stats);
    stats.totalMs = performance.now() - started + tokenizeMs;
    this.lastRun = stats;
    return texts.map((t) => decoder.result(t.index));
  }

  /** encoder → decoders: each batch through the encoder, then every decoder reads its rows of it. */
  private async encodeAll(
    batches: readonly RowJob[][],
    decoders: readonly TaskDecoder[],
    casing: string | null,
    stats: RunStats,
  ): Promise<void> {
    const output = this.manifest.encoder.outputs[0];
    await this.inFlight(batches, async (batch) => {
      const { feeds, seq } = this.feeds(batch, casing);
      stats.realTokens += batch.reduce((n, j) => n + j.row.ids.length, 0);
      stats.paddedTokens += batch.length * seq;
      const result = await this.encoder.run(feeds, output);
      stats.encoderMs += result.ms;
      const headsStarted = performance.now();
      for (const decoder of decoders) decoder.collect(batch, result.data, seq);
      stats.headsMs += performance.now() - headsStarted;
    });
  }

  /**
   * Runs `step` over the batches in order, with enough in flight that the worker never waits on us
   * (several when batches are tiny, as with per-input batching) and few enough that memory stays
   * bounded: ≤ 8 batches and ≤ two full batches' worth of padded tokens. On a failure, waits for the
   * batches already handed over, then throws.
   */
  private async inFlight(batches: readonly RowJob[][], step: (batch: RowJob[]) => Promise<void>): Promise<void> {
    const tokenBudget = 2 * (this.options.maxBatchTokens ?? 8192);
    const pending: Array<Promise<void>> = [];
    const inFlightTokens: number[] = [];
    try {
      for (const batch of batches) {
        const tokens = batch.length * Math.max(...batch.map((j) => j.row.ids.length));
        while (pending.length >= 8 || (pending.length > 0 && inFlightTokens.reduce((a, b) => a + b, 0) + tokens > tokenBudget)) {
          await pending.shift();
          inFlightTokens.shift();
        }
        inFlightTokens.push(tokens);
        const running = step(batch);
        running.catch(() => undefined); // observed below; never an unhandled rejection
        pending.push(running);
      }
      await Promise.all(pending);
    } catch (error) {
      await Promise.allSettled(pending); // let the worker finish what it holds before reporting
      throw error;
    }
  }

  private feeds(batch: RowJob[], casing: string | null): { feeds: EncoderFeeds; seq: number } {
    return batchFeeds(batch, this.manifest.encoder.inputs, this.tokenizer.specials.pad, casing);
  }

  /** Stops the encoder worker. Pending runs reject. */
  async close(): Promise<void> {
    await this.encoder.close();
  }
}

/**
 * The batching an artifact gets when none is configured: `mixed` only when its outputs depend on each
 * input alone (static int8), since then sharing batches changes nothing but speed; dynamic int8
 * keeps `per-input` so outputs never depend on batch neighbours.
 */
/** At most this many sessions unless configured: each holds its own copy of the encoder (~35 MB int8). */
const MAX_DEFAULT_SESSIONS = 4;

/**
 * The encoder sessions a pipeline gets when none are configured (model/encoder.ts EncoderPool):
 * `per-input` batches hold one input's rows, too small for ORT's intra-op threads to share, so one
 * single-threaded session per core (at most 4) runs them side by side; `mixed` batches are large
 * enough for one session with a thread per core, and a second session there only costs memory
 * (bench/processor-throughput.ts on trident-multitask-1.1.0, 2 cores: per-input end to end 74.9 →
 * 126.3 texts/s with two sessions; mixed 109.2 → 103.0 texts/s and RSS 327 → 464 MB).
 */
export function defaultSessions(batching: 'mixed' | 'per-input', cores = os.cpus().length): number {
  return batching === 'per-input' ? Math.max(1, Math.min(cores, MAX_DEFAULT_SESSIONS)) : 1;
}

export function defaultBatching(manifest: Pick<Manifest, 'quantization'>): 'mixed' | 'per-input' {
  return isBatchIndependent(manifest) ? 'mixed' : 'per-input';
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

/** Keys in the contract's order (sentiment, entities, answers, categories) for readable JSON; categories always present when asked for. */
function inContractOrder(out: PredictOutput, wanted: ReadonlySet<TaskName>): PredictOutput {
  const { sentiment, entities, answers, categories } = out;
  return {
    id: out.id,
    ...(sentiment && { sentiment }),
    ...(entities && { entities }),
    ...(answers && { answers }),
    ...(wanted.has('categories') && { categories: categories ?? {} }),
  };
}

/** A run's timings before the encoder starts. */
function startStats(inputs: number, rows: number, batches: number, tokenizeMs: number): RunStats {
  return { inputs, rows, batches, realTokens: 0, paddedTokens: 0, tokenizeMs, encoderMs: 0, headsMs: 0, totalMs: 0 };
}
