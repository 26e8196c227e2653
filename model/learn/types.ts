/**
 * The contract between the learner's consumer (consumers/learner/: feedback → validated examples →
 * dataset snapshots) and the head trainer (model/learn/: features → trained heads → a candidate
 * artifact). Types only.
 */
import type { TaskName } from '../../common/tasks';

/** Where an accepted example came from in the feedback log. */
export interface LogPosition {
  topic: string;
  partition: number;
  offset: string;
}

/** One accepted, validated feedback example (the newest for its key; older ones are superseded). */
export interface Example {
  /**
   * Identity for deduplication and conflicts: sha256 of task, head, text (and, for answers, the
   * question). A newer example with the same key replaces the older one.
   */
  key: string;
  /** The feedback event's id (the id of the text event it labels). */
  id: string;
  text: string;
  task: TaskName;
  /** The head it trains: `sentiment`, `entities`, `answers`, or a categories head's name. */
  head: string;
  /** sentiment and categories. */
  label?: string;
  /** entities: gold spans, UTF-16 offsets into text, on token boundaries. May be empty (a text with no entities). */
  entities?: Array<{ label: string; start: number; end: number }>;
  /** answers: the question and the gold span in text. */
  answer?: { question: string; start: number; end: number };
  source: string;
  createdAt: number;
  position: LogPosition;
  /** Deterministic: by a hash of the text, 10 % held back (at least 5 per label when possible). */
  split: 'train' | 'heldout';
}

/**
 * A dataset is a snapshot of the log: the accepted examples up to a set of offsets.
 * `id` = first 16 hex of sha256(JSON of the sorted offsets + `digest`).
 */
export interface DatasetSnapshot {
  id: string;
  topic: string;
  /** partition → next offset to read (what the learner has consumed and committed). */
  offsets: Record<string, string>;
  /** sha256 over the examples' keys and contents, in key order. */
  digest: string;
  /** Per head: how many examples, per split and per label. */
  heads: Record<string, { task: TaskName; train: number; heldout: number; labels: Record<string, number> }>;
}

/** What one training run did to one head. */
export interface HeadOutcome {
  head: string;
  task: TaskName;
  /** `trained`: warm-started from production; `new`: a new categories head from scratch; `skipped`: not trained (see reason). */
  status: 'trained' | 'new' | 'skipped';
  reason?: string;
  labels: string[];
  trainExamples: number;
  heldoutExamples: number;
  epochs: number;
  /** Held-back metrics (model/evaluation/metrics.ts shapes), candidate and production (null for a new head). */
  heldout: { candidate: Record<string, number>; production: Record<string, number> | null } | null;
}

/** The result of building a candidate artifact. */
export interface CandidateBuild {
  dir: string;
  name: string;
  version: string;
  parentVersion: string;
  snapshot: DatasetSnapshot;
  heads: HeadOutcome[];
  /**
   * The artifact's own dev splits for the heads that changed, candidate and production both measured
   * by this runtime in this run (split names end in `@runtime`: the Python evaluation production's
   * manifest reports decodes differently, so its numbers are not compared with these).
   */
  dev: Array<{ split: string; candidate: Record<string, number>; production: Record<string, number> }>;
  /** Which tfjs backend trained: `tensorflow` (tfjs-node), `wasm`, or `cpu`. */
  backend: string;
  seconds: { features: number; training: number; evaluation: number; total: number };
}

/** Progress while building: the CLI draws a bar from these. */
export type LearnProgress =
  | { kind: 'features'; done: number; total: number; cached: number }
  | { kind: 'epoch'; head: string; epoch: number; epochs: number; loss: number; heldoutLoss: number | null }
  | { kind: 'head-done'; outcome: HeadOutcome }
  | { kind: 'evaluate'; what: string };

export interface BuildCandidateOptions {
  /** The production artifact folder (encoder, tokenizer and heads to warm-start from). */
  parentDir: string;
  /** Every accepted example of the snapshot, with its split. */
  examples: readonly Example[];
  snapshot: DatasetSnapshot;
  /** Where to write the candidate artifact folder (created; must not exist). */
  outDir: string;
  /**
   * The candidate's version, chosen by the learner from the registry: the parent's version with a
   * `-ft.N` suffix (1.1.0 → 1.1.0-ft.1; 1.1.0-ft.1 → 1.1.0-ft.2), N one above the highest registered.
   */
  version: string;
  /** A head with fewer training examples per label than this is not trained (learn.minExamplesPerLabel, default 8). */
  minExamplesPerLabel: number;
  /** Feature cache folder and its size bound in bytes. */
  featureCache: { dir: string; maxBytes: number };
  /** Optional dev-split data folder (../shared/data); evaluated when present. */
  evalDataDir?: string | null;
  maxEpochs?: number;
  /** Trainer's learning rate and early-stopping patience (its defaults when absent). */
  learningRate?: number;
  patience?: number;
  seed?: number;
  onProgress?: (event: LearnProgress) => void;
}

// ---- The trainer (model/learn/train-heads.ts, on tfjs): pure functions over feature arrays. ----

/** Rows of features and a class per row. Pooled heads: one row per text window; token heads: one row per token. */
export interface ClassifierData {
  /** `[rows × dim]`, row-major. */
  x: Float32Array;
  rows: number;
  dim: number;
  /** Class index per row; -1 = ignored (e.g. continuation sub-words under `first` aggregation, special tokens). */
  y: Int32Array;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  loss: number;
  heldoutLoss: number | null;
}

export interface ClassifierTrainOptions {
  /**
   * Starting weights, `nn.Linear` layout (model/heads.ts LinearLayer: weight `[out × in]`). Warm start:
   * the production head's layers. A new head: newHeadLayers(dim, hidden, classes, seed).
   */
  init: ReadonlyArray<import('../heads').LinearLayer>;
  classes: number;
  train: ClassifierData;
  /** Early stopping watches this split's loss; null = run maxEpochs. */
  heldout: ClassifierData | null;
  maxEpochs: number;
  batchSize?: number;
  learningRate?: number;
  /** Epochs without held-back improvement before stopping. */
  patience?: number;
  seed?: number;
  onEpoch?: (progress: TrainProgress) => void;
}

/** Answers: per example the hidden states of one encoder row and the gold start/end positions in it. */
export interface SpanData {
  /** `[n × maxLen × dim]`, zero-padded. */
  x: Float32Array;
  n: number;
  maxLen: number;
  dim: number;
  /** `[n × maxLen]`: 1 where an answer may start or end (context tokens of the row), else 0. */
  mask: Uint8Array;
  start: Int32Array;
  end: Int32Array;
}

export interface SpanTrainOptions extends Omit<ClassifierTrainOptions, 'train' | 'heldout' | 'classes'> {
  train: SpanData;
  heldout: SpanData | null;
}

export interface TrainResult {
  /** Best held-back epoch's weights (or the last epoch's without a held-back split). */
  layers: Array<import('../heads').LinearLayer>;
  epochs: number;
  bestEpoch: number;
  history: TrainProgress[];
  /** tfjs backend that ran: `tensorflow` (tfjs-node), `wasm` or `cpu`. */
  backend: string;
}
