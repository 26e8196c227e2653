/**
 * Label alignment: from an example's labels (a class, character spans, an answer span) to the rows the
 * heads are trained on, over the same tokens and windows the runtime decodes. Pure.
 */
import type { QuestionRowFeatures } from '../feature-decoder';

/** Why an example yields no training rows. */
export interface Unaligned {
  reason: string;
}

export const isUnaligned = (v: unknown): v is Unaligned => typeof v === 'object' && v !== null && 'reason' in v;

/**
 * Sentiment/categories: every text window is one row with the example's class (the runtime averages
 * the windows' probabilities, so each window should predict the label). Returns `[windows × hidden]`
 * rows from the CLS or mean vectors. Pure.
 */
export function pooledRows(
  f: { windows: number; hiddenSize: number; cls: Float32Array | null; mean: Float32Array | null },
  pooling: 'cls' | 'mean',
): Float32Array {
  const source = pooling === 'mean' ? f.mean : f.cls;
  if (!source) throw new Error(`features hold no ${pooling} vectors`);
  return source.subarray(0, f.windows * f.hiddenSize);
}

/**
 * Entities under `first` aggregation: the first sub-word token of each word gets B-/I-/O (B- on the
 * first word of a span, I- on the others); continuation sub-words and tokens outside any word get -1
 * (ignored by the trainer, as the runtime never reads them). A span must cover whole words; its
 * `label` is the entity type (`PER`) and `B-<type>` must be one of `labels`. Pure.
 */
export function bioLabels(
  offsets: Int32Array,
  wordIds: Int32Array,
  spans: ReadonlyArray<{ label: string; start: number; end: number }>,
  labels: readonly string[],
): Int32Array | Unaligned {
  const index = new Map(labels.map((l, i) => [l, i]));
  const outside = index.get('O');
  if (outside === undefined) return { reason: 'the entities head has no O label' };
  for (const s of spans) {
    if (!index.has(`B-${s.label}`) || !index.has(`I-${s.label}`))
      return { reason: `entity type ${s.label} is not one of the head's labels` };
  }
  const tokens = wordIds.length;
  const y = new Int32Array(tokens).fill(-1);
  const started = new Array<boolean>(spans.length).fill(false);
  for (let t = 0; t < tokens; t++) {
    const word = wordIds[t];
    if (word < 0 || (t > 0 && wordIds[t - 1] === word)) continue;
    let last = t;
    while (last + 1 < tokens && wordIds[last + 1] === word) last++;
    const start = offsets[2 * t];
    const end = offsets[2 * last + 1];
    y[t] = outside;
    spans.forEach((s, k) => {
      if (end <= s.start || start >= s.end) return;
      if (start < s.start || end > s.end) return;
      y[t] = index.get(`${started[k] ? 'I' : 'B'}-${s.label}`)!;
      started[k] = true;
    });
    const cut = spans.find((s) => start < s.end && s.start < end && (start < s.start || end > s.end));
    if (cut) return { reason: `entity [${cut.start}, ${cut.end}) cuts the word [${start}, ${end})` };
  }
  const missed = spans.findIndex((_, k) => !started[k]);
  if (missed >= 0) return { reason: `entity [${spans[missed].start}, ${spans[missed].end}) covers no word` };
  return y;
}

/** Where an answer lies in a question's encoder rows. */
export interface AnswerPosition {
  /** Which (question, context window) row. */
  row: number;
  /** Positions in that row (inclusive). */
  start: number;
  end: number;
}

/**
 * Answers: the tokens holding the answer's first and last character, then the row (context window)
 * that holds both, farthest from its window's edges when several do (ties: the earlier row), and
 * their positions in it. `offsets` are the text's content tokens'. Pure.
 */
export function answerPosition(
  offsets: Int32Array,
  rows: readonly Pick<QuestionRowFeatures, 'tokenIndex'>[],
  start: number,
  end: number,
): AnswerPosition | Unaligned {
  const tokens = offsets.length / 2;
  if (!(end > start)) return { reason: `empty answer span [${start}, ${end})` };
  let first = -1;
  let last = -1;
  for (let t = 0; t < tokens; t++) {
    if (offsets[2 * t + 1] <= start || offsets[2 * t] >= end) continue;
    if (first < 0) first = t;
    last = t;
  }
  if (first < 0) return { reason: `answer [${start}, ${end}) covers no token` };
  let best: AnswerPosition | null = null;
  let bestDistance = -1;
  rows.forEach(({ tokenIndex }, r) => {
    let lo = -1;
    let hi = -1;
    let ps = -1;
    let pe = -1;
    for (let p = 0; p < tokenIndex.length; p++) {
      const t = tokenIndex[p];
      if (t < 0) continue;
      if (lo < 0) lo = p;
      hi = p;
      if (t === first) ps = p;
      if (t === last) pe = p;
    }
    if (ps < 0 || pe < 0) return;
    const distance = Math.min(ps - lo, hi - pe);
    if (distance > bestDistance) {
      bestDistance = distance;
      best = { row: r, start: ps, end: pe };
    }
  });
  return best ?? { reason: `no context window holds the whole answer [${start}, ${end}) (tokens ${first}..${last})` };
}
