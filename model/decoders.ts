/**
 * One decoder per task: it reads its rows out of each encoder batch (running its heads on them) and,
 * once every batch is back, turns what it gathered for a text into that task's result. A decoder
 * lives for one run; each task's post-processing is here and nowhere else.
 */
import type { TaskName } from '../common/tasks';
import { aggregateWords } from './decode/aggregate';
import { decodeBio } from './decode/bio';
import { bestAcrossWindows, bestSpanInWindow } from './decode/qa';
import { argmax, softmax } from './decode/softmax';
import { aggregateWindows } from './decode/window-aggregation';
import { Head, runHead } from './heads';
import type { TokenizedText } from './tokenize';
import type { AnswerResult, CategoryResult, EntityResult, PredictInput, PredictOutput } from './types';
import { bestWindowPerToken, EncoderRow } from './windows';

/** One input as planned: its tokens and its questions. */
export interface PlannedText {
  /** Position among the run's inputs. */
  index: number;
  input: PredictInput;
  tokens: TokenizedText;
  questions: PlannedQuestion[];
}

export interface PlannedQuestion {
  question: string;
  /** How many encoder rows (context windows) the question has. */
  rows: number;
}

/** One encoder row and where its output belongs. */
export interface RowJob {
  row: EncoderRow;
  caseIds: Int32Array | null;
  text: PlannedText;
  /** -1 for a text window; else the question index. */
  question: number;
  /** Index of this row among the text's (or the question's) rows. */
  window: number;
}

export interface TaskDecoder {
  /** The task it decodes; `features` for the learner's feature decoder (model/feature-decoder.ts). */
  readonly task: TaskName | 'features';
  /** Whether the plan must make text windows for it (default true). */
  readonly readsTextRows?: boolean;
  /** When set, the plan makes (question, context window) rows for it, the question cut to this many tokens. */
  readonly maxQuestionTokens?: number;
  /** Prepares what this task gathers for `text`, whose text windows are `rows` (empty when no task reads them). */
  begin(text: PlannedText, rows: readonly EncoderRow[]): void;
  /** Reads this task's rows of one batch; `hidden` is `[batch.length × seq × hiddenSize]`. */
  collect(batch: readonly RowJob[], hidden: Float32Array, seq: number): void;
  /** Writes this task's result for `text` into `out`. */
  finish(text: PlannedText, out: PredictOutput): void;
}

/** The decoders of the wanted tasks, in the contract's order. Throws nothing: the plan checks heads exist. */
export function createDecoders(wanted: ReadonlySet<TaskName>, heads: ReadonlyMap<string, Head>, hiddenSize: number): TaskDecoder[] {
  const all = [...heads.values()];
  const decoders: TaskDecoder[] = [];
  if (wanted.has('sentiment'))
    decoders.push(
      new PooledDecoder(
        'sentiment',
        all.filter((h) => h.spec.task === 'sentiment'),
        hiddenSize,
      ),
    );
  if (wanted.has('entities')) decoders.push(new EntitiesDecoder(heads.get('entities')!, hiddenSize));
  if (wanted.has('answers')) decoders.push(new AnswersDecoder(heads.get('answers')!, hiddenSize));
  if (wanted.has('categories'))
    decoders.push(
      new PooledDecoder(
        'categories',
        all.filter((h) => h.spec.task === 'categories'),
        hiddenSize,
      ),
    );
  return decoders;
}

/** Text windows of a batch, with their position in it. */
export function textRowsOf(batch: readonly RowJob[]): Array<{ job: RowJob; b: number }> {
  return batch.map((job, b) => ({ job, b })).filter(({ job }) => job.question < 0);
}

/**
 * Sentiment and categories: one pooled vector per text window through each head, then the windows'
 * logits combined by the head's `window_aggregation` (default: mean of the softmaxes).
 */
class PooledDecoder implements TaskDecoder {
  /** Per text, per head name, per window: logits (already divided by the temperature). */
  private readonly logits: Array<Map<string, Float32Array[]>> = [];
  /** Per text, per window: its text tokens (no [CLS]/[SEP]), the weight of `length-weighted`. */
  private readonly textTokens: Int32Array[] = [];

  constructor(
    readonly task: 'sentiment' | 'categories',
    private readonly heads: readonly Head[],
    private readonly h: number,
  ) {}

  begin(text: PlannedText, rows: readonly EncoderRow[]): void {
    this.logits[text.index] = new Map(this.heads.map((head) => [head.name, new Array<Float32Array>(rows.length)]));
    this.textTokens[text.index] = Int32Array.from(rows, (row) => row.tokenIndex.filter((t) => t >= 0).length);
  }

  collect(batch: readonly RowJob[], hidden: Float32Array, seq: number): void {
    const rows = textRowsOf(batch);
    if (rows.length === 0) return;
    const h = this.h;
    // One matrix per head and batch, not one call per row.
    for (const head of this.heads) {
      const labels = head.spec.labels.length;
      const pooled = new Float32Array(rows.length * h);
      rows.forEach(({ job, b }, k) => pool(hidden, b * seq * h, job.row.ids.length, h, head.spec.pooling === 'mean', pooled, k * h));
      const logits = runHead(head, pooled, rows.length);
      rows.forEach(({ job }, k) => (this.logits[job.text.index]!.get(head.name)![job.window] = logits.slice(k * labels, (k + 1) * labels)));
    }
  }

  finish(text: PlannedText, out: PredictOutput): void {
    for (const head of this.heads) {
      const spec = head.spec;
      const how = spec.task === 'sentiment' || spec.task === 'categories' ? spec.window_aggregation : undefined;
      const probs = aggregateWindows(this.logits[text.index]!.get(head.name)!, this.textTokens[text.index]!, how);
      const labels = spec.labels;
      if (this.task === 'sentiment') {
        const scores: Record<string, number> = {};
        labels.forEach((label, k) => (scores[label] = probs[k]));
        out.sentiment = { label: labels[argmax(probs)], scores };
      } else {
        const ranked: CategoryResult[] = labels.map((label, k) => ({ label, score: probs[k] }));
        // Stable sort: equal scores keep label order, as numpy's argsort(kind="stable") on -p would.
        ranked.sort((a, b) => b.score - a.score);
        const topK = spec.task === 'categories' && 'top_k' in spec ? spec.top_k : undefined;
        (out.categories ??= {})[head.name] = ranked.slice(0, topK ?? 5);
      }
    }
  }
}

/** Entities: each token's label probabilities from the window that sees it best, then words, then BIO spans. */
class EntitiesDecoder implements TaskDecoder {
  readonly task = 'entities';
  /** Per text: per content token `[row, position]` of the window it is taken from. */
  private readonly choice: Int32Array[] = [];
  /** Per text: per content token × label probabilities. */
  private readonly tokenProbs: Float64Array[] = [];

  constructor(
    private readonly head: Head,
    private readonly h: number,
  ) {}

  begin(text: PlannedText, rows: readonly EncoderRow[]): void {
    const tokens = text.tokens.ids.length;
    this.choice[text.index] = bestWindowPerToken(rows, tokens);
    this.tokenProbs[text.index] = new Float64Array(tokens * this.head.spec.labels.length);
  }

  collect(batch: readonly RowJob[], hidden: Float32Array, seq: number): void {
    const labels = this.head.spec.labels.length;
    for (const { job, b } of textRowsOf(batch)) {
      const choice = this.choice[job.text.index]!;
      const tokenProbs = this.tokenProbs[job.text.index]!;
      // Only the positions this window owns (a contiguous range) go through the head.
      let first = -1;
      let last = -1;
      for (let p = 0; p < job.row.ids.length; p++) {
        const t = job.row.tokenIndex[p];
        if (t >= 0 && choice[2 * t] === job.window) {
          if (first < 0) first = p;
          last = p;
        }
      }
      if (first < 0) continue;
      const logits = runHead(this.head, hidden, last - first + 1, (b * seq + first) * this.h);
      for (let p = first; p <= last; p++) tokenProbs.set(softmax(logits, (p - first) * labels, labels), job.row.tokenIndex[p] * labels);
    }
  }

  finish(text: PlannedText, out: PredictOutput): void {
    const spec = this.head.spec;
    if (spec.task !== 'entities') return;
    const { offsets, wordIds } = text.tokens;
    const words = aggregateWords(this.tokenProbs[text.index]!, spec.labels.length, wordIds, spec.aggregation).map((w) => ({
      label: spec.labels[w.labelIndex],
      score: w.score,
      start: offsets[2 * w.firstToken],
      end: offsets[2 * w.lastToken + 1],
    }));
    const source = text.input.text;
    out.entities = decodeBio(words).map((e): EntityResult => ({
      label: e.label,
      text: source.slice(e.start, e.end),
      start: e.start,
      end: e.end,
      score: e.score,
    }));
  }
}

type Span = { score: number; start: number; end: number } | null;

/** Answers: the best span in each (question, window) row, then the best across windows, or no answer below the threshold. */
export class AnswersDecoder implements TaskDecoder {
  readonly task = 'answers';
  readonly readsTextRows = false;
  /** Per text, per question, per window: the best span in token indexes. */
  private readonly best: Span[][][] = [];

  constructor(
    private readonly head: Head,
    private readonly h: number,
  ) {}

  /** Most question tokens a row holds (longer questions are cut). */
  get maxQuestionTokens(): number {
    return this.head.spec.task === 'answers' ? this.head.spec.max_question_tokens : 0;
  }

  begin(text: PlannedText): void {
    this.best[text.index] = text.questions.map((q) => new Array<Span>(q.rows).fill(null));
  }

  collect(batch: readonly RowJob[], hidden: Float32Array, seq: number): void {
    const spec = this.head.spec;
    if (spec.task !== 'answers') return;
    batch.forEach((job, b) => {
      if (job.question < 0) return;
      const len = job.row.ids.length;
      const logits = runHead(this.head, hidden, len, b * seq * this.h);
      const startLogits = new Float64Array(len);
      const endLogits = new Float64Array(len);
      const isContext = new Uint8Array(len);
      for (let p = 0; p < len; p++) {
        startLogits[p] = logits[2 * p];
        endLogits[p] = logits[2 * p + 1];
        isContext[p] = job.row.tokenIndex[p] >= 0 ? 1 : 0;
      }
      const best = bestSpanInWindow(startLogits, endLogits, isContext, spec.max_answer_tokens);
      this.best[job.text.index]![job.question]![job.window] = best && {
        score: best.score,
        start: job.row.tokenIndex[best.start],
        end: job.row.tokenIndex[best.end],
      };
    });
  }

  finish(text: PlannedText, out: PredictOutput): void {
    const spec = this.head.spec;
    if (spec.task !== 'answers') return;
    const { offsets } = text.tokens;
    const source = text.input.text;
    out.answers = text.questions.map(({ question }, qi): AnswerResult => {
      const best = bestAcrossWindows(this.best[text.index]![qi]!);
      if (best === null || best.score < spec.no_answer_threshold)
        return { question, answer: null, start: null, end: null, score: best?.score ?? 0 };
      const start = offsets[2 * best.start];
      const end = offsets[2 * best.end + 1];
      return { question, answer: source.slice(start, end), start, end, score: best.score };
    });
  }
}

/** Writes the CLS vector (position 0), or the mean over the window's real positions, into `out` at `at`. */
export function pool(hidden: Float32Array, base: number, len: number, h: number, mean: boolean, out: Float32Array, at: number): void {
  if (!mean) {
    out.set(hidden.subarray(base, base + h), at);
    return;
  }
  const sums = new Float64Array(h);
  for (let p = 0; p < len; p++) for (let k = 0; k < h; k++) sums[k] += hidden[base + p * h + k];
  for (let k = 0; k < h; k++) out[at + k] = sums[k] / len;
}
