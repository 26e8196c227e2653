/**
 * The learner's view of an encoder run: instead of running heads, it keeps the hidden states the
 * heads would read, in the shapes they read them (model/learn/ trains heads on these). It plugs into
 * the same plan as the task decoders, so tokenisation, windows, casing ids and batching are exactly
 * those of inference.
 */
import type { PlannedText, RowJob, TaskDecoder } from './decoders';
import { pool, textRowsOf } from './decoders';
import { bestWindowPerToken, EncoderRow } from './windows';

/** Which features to keep; what is not asked for is not computed (question rows) or not copied. */
export interface FeatureRequest {
  /** Per text window: the CLS and mean-pooled vectors (sentiment and categories heads). */
  pooled: boolean;
  /** Per content token: its vector from the window that sees it best (entities head). */
  tokens: boolean;
  /** Per (question, context window) row: every position's vector (answers head). */
  questions: boolean;
}

/** One (question, context window) encoder row. */
export interface QuestionRowFeatures {
  /** Positions in the row ([CLS] question [SEP] context [SEP]). */
  length: number;
  /** `[length × hidden]`. */
  hidden: Float32Array;
  /** Per position: the text's content token it holds, or -1 ([CLS], question tokens, [SEP]): the answer may only start/end where ≥ 0. */
  tokenIndex: Int32Array;
}

export interface QuestionFeatures {
  question: string;
  rows: QuestionRowFeatures[];
}

/** Everything the heads would read for one text. Offsets are UTF-16 code units into `text`. */
export interface TextFeatures {
  id: string;
  text: string;
  hiddenSize: number;
  /** The text's content tokens (no specials): flat `[start, end, …]` offsets and word ids (-1: no word). */
  offsets: Int32Array;
  wordIds: Int32Array;
  /** Text windows (0 when neither pooled nor token features were asked for). */
  windows: number;
  /** `[windows × hidden]` CLS vectors and means over each window's real positions; null unless asked for. */
  cls: Float32Array | null;
  mean: Float32Array | null;
  /** `[tokens × hidden]`, token t from the window bestWindowPerToken picks (as the entities decoder does); null unless asked for. */
  tokens: Float32Array | null;
  /** One per input question, in order; empty unless asked for. */
  questions: QuestionFeatures[];
}

/** Gathers TextFeatures during a run; read them with `result` once every batch is back. */
export class FeatureDecoder implements TaskDecoder {
  readonly task = 'features';
  readonly readsTextRows: boolean;
  readonly maxQuestionTokens: number | undefined;
  private readonly out: TextFeatures[] = [];
  private readonly choice: Int32Array[] = [];

  constructor(
    private readonly request: FeatureRequest,
    private readonly h: number,
    maxQuestionTokens: number,
  ) {
    this.readsTextRows = request.pooled || request.tokens;
    this.maxQuestionTokens = request.questions ? maxQuestionTokens : undefined;
  }

  begin(text: PlannedText, rows: readonly EncoderRow[]): void {
    const { request, h } = this;
    const tokens = text.tokens.ids.length;
    this.out[text.index] = {
      id: text.input.id,
      text: text.input.text,
      hiddenSize: h,
      offsets: text.tokens.offsets,
      wordIds: text.tokens.wordIds,
      windows: rows.length,
      cls: request.pooled ? new Float32Array(rows.length * h) : null,
      mean: request.pooled ? new Float32Array(rows.length * h) : null,
      tokens: request.tokens ? new Float32Array(tokens * h) : null,
      questions: request.questions
        ? text.questions.map((q) => ({ question: q.question, rows: new Array<QuestionRowFeatures>(q.rows) }))
        : [],
    };
    if (request.tokens) this.choice[text.index] = bestWindowPerToken(rows, tokens);
  }

  collect(batch: readonly RowJob[], hidden: Float32Array, seq: number): void {
    const h = this.h;
    for (const { job, b } of textRowsOf(batch)) {
      const out = this.out[job.text.index]!;
      const base = b * seq * h;
      const len = job.row.ids.length;
      if (out.cls && out.mean) {
        pool(hidden, base, len, h, false, out.cls, job.window * h);
        pool(hidden, base, len, h, true, out.mean, job.window * h);
      }
      if (out.tokens) {
        const choice = this.choice[job.text.index]!;
        for (let p = 0; p < len; p++) {
          const t = job.row.tokenIndex[p];
          if (t >= 0 && choice[2 * t] === job.window) out.tokens.set(hidden.subarray(base + p * h, base + (p + 1) * h), t * h);
        }
      }
    }
    if (!this.request.questions) return;
    batch.forEach((job, b) => {
      if (job.question < 0) return;
      const len = job.row.ids.length;
      const start = b * seq * h;
      this.out[job.text.index]!.questions[job.question]!.rows[job.window] = {
        length: len,
        hidden: hidden.slice(start, start + len * h),
        tokenIndex: job.row.tokenIndex,
      };
    });
  }

  finish(): void {
    // Features are read with result(), not written into a prediction.
  }

  /** The features of the run's input at `index`. */
  result(index: number): TextFeatures {
    return this.out[index]!;
  }
}
