/**
 * Evaluation metrics as pure functions with their standard definitions, so `trident eval`,
 * `trident replay` and the Python evaluator (training/trident_training/metrics.py) give the same
 * numbers on the same predictions. All fractions are in 0..1. Nothing here blocks or does I/O.
 */

import { seededRandom } from '../../common/random';

/** Precision, recall and F1 of one label or type; `support` is the number of gold items. */
export interface Prf {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationMetrics {
  n: number;
  accuracy: number;
  macro_precision: number;
  macro_recall: number;
  macro_f1: number;
  per_label: Record<string, Prf>;
  /** `matrix[gold][pred]`, rows and columns in `labels` order. */
  confusion: { labels: string[]; matrix: number[][] };
}

const ratio = (num: number, den: number): number => (den > 0 ? num / den : 0);
const f1Of = (p: number, r: number): number => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/**
 * Accuracy, per-label and macro P/R/F1 and the confusion matrix. The macro average runs over every
 * label in `labels` (a label never predicted nor seen scores 0, as in scikit-learn's and the Python
 * evaluator's definition); gold or predicted labels missing from `labels` are appended in order of
 * appearance so no event is dropped.
 */
export function classification(gold: readonly string[], pred: readonly string[], labels: readonly string[]): ClassificationMetrics {
  if (gold.length !== pred.length) throw new RangeError(`classification: ${gold.length} gold labels but ${pred.length} predictions`);
  const all = [...labels];
  for (const l of [...gold, ...pred]) if (!all.includes(l)) all.push(l);
  const index = new Map(all.map((l, i) => [l, i]));
  const matrix = all.map(() => all.map(() => 0));
  gold.forEach((g, i) => matrix[index.get(g)!][index.get(pred[i])!]++);
  const per_label: Record<string, Prf> = {};
  let correct = 0;
  all.forEach((label, k) => {
    const tp = matrix[k][k];
    correct += tp;
    const predicted = matrix.reduce((s, row) => s + row[k], 0);
    const support = matrix[k].reduce((s, v) => s + v, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    per_label[label] = { precision, recall, f1: f1Of(precision, recall), support };
  });
  const mean = (key: 'precision' | 'recall' | 'f1'): number =>
    ratio(
      all.reduce((s, l) => s + per_label[l][key], 0),
      all.length,
    );
  return {
    n: gold.length,
    accuracy: ratio(correct, gold.length),
    macro_precision: mean('precision'),
    macro_recall: mean('recall'),
    macro_f1: mean('f1'),
    per_label,
    confusion: { labels: all, matrix },
  };
}

/** A typed span; offsets are UTF-16 code units into the text, `end` exclusive. */
export interface Span {
  label: string;
  start: number;
  end: number;
}

export interface EntityMetrics {
  n: number;
  precision: number;
  recall: number;
  f1: number;
  per_type: Record<string, Prf>;
  gold_entities: number;
  predicted_entities: number;
}

const spanKey = (s: Span): string => `${s.start}:${s.end}:${s.label}`;

/**
 * conlleval semantics: an entity counts as correct only when its start, end and type all match a
 * gold entity (exact span); micro P/R/F1 over all entities of all texts, and per type. Duplicate
 * spans within one text count once (conlleval's chunks are a set).
 */
export function entities(gold: ReadonlyArray<readonly Span[]>, pred: ReadonlyArray<readonly Span[]>): EntityMetrics {
  if (gold.length !== pred.length) throw new RangeError(`entities: ${gold.length} gold texts but ${pred.length} predictions`);
  const tp = new Map<string, number>();
  const nGold = new Map<string, number>();
  const nPred = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  gold.forEach((g, i) => {
    const gs = new Map(g.map((s) => [spanKey(s), s]));
    const ps = new Map(pred[i].map((s) => [spanKey(s), s]));
    for (const s of gs.values()) bump(nGold, s.label);
    for (const [k, s] of ps) {
      bump(nPred, s.label);
      if (gs.has(k)) bump(tp, s.label);
    }
  });
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  const prf = (t: number, g: number, p: number): Prf => {
    const precision = ratio(t, p);
    const recall = ratio(t, g);
    return { precision, recall, f1: f1Of(precision, recall), support: g };
  };
  const types = [...new Set([...nGold.keys(), ...nPred.keys()])].sort();
  const micro = prf(sum(tp), sum(nGold), sum(nPred));
  return {
    n: gold.length,
    precision: micro.precision,
    recall: micro.recall,
    f1: micro.f1,
    per_type: Object.fromEntries(types.map((t) => [t, prf(tp.get(t) ?? 0, nGold.get(t) ?? 0, nPred.get(t) ?? 0)])),
    gold_entities: sum(nGold),
    predicted_entities: sum(nPred),
  };
}

// SQuAD v1.1 official evaluation script (evaluate-v1.1.py) semantics.
const ASCII_PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
// Python's `\b` on str is Unicode-aware; JavaScript's is ASCII-only, hence the explicit lookarounds.
const ARTICLES = /(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu;

/** Lower case, drop ASCII punctuation (Python's string.punctuation), drop a/an/the, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  const lower = s.toLowerCase();
  let noPunct = '';
  for (const ch of lower) if (!ASCII_PUNCTUATION.has(ch)) noPunct += ch;
  return noPunct.replace(ARTICLES, ' ').split(/\s+/u).filter(Boolean).join(' ');
}

export function squadExactMatch(prediction: string, truth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(truth) ? 1 : 0;
}

/** Token-level F1 of the normalised strings (bag of tokens, counted with multiplicity). */
export function squadF1(prediction: string, truth: string): number {
  const p = normalizeAnswer(prediction).split(' ').filter(Boolean);
  const t = normalizeAnswer(truth).split(' ').filter(Boolean);
  const counts = new Map<string, number>();
  for (const tok of t) counts.set(tok, (counts.get(tok) ?? 0) + 1);
  let same = 0;
  for (const tok of p) {
    const c = counts.get(tok) ?? 0;
    if (c > 0) {
      same++;
      counts.set(tok, c - 1);
    }
  }
  if (same === 0) return 0;
  return f1Of(same / p.length, same / t.length);
}

export interface AnswerMetrics {
  n: number;
  exact_match: number;
  f1: number;
}

/**
 * EM and F1 per question, each the maximum over that question's gold answers, averaged over
 * questions. A null prediction (no answer given) scores as the empty string.
 */
export function answers(predictions: ReadonlyArray<string | null>, golds: ReadonlyArray<readonly string[]>): AnswerMetrics {
  if (predictions.length !== golds.length)
    throw new RangeError(`answers: ${golds.length} gold answers but ${predictions.length} predictions`);
  let em = 0;
  let f1 = 0;
  predictions.forEach((p, i) => {
    if (golds[i].length === 0) throw new RangeError(`answers: question ${i} has no gold answer`);
    em += Math.max(...golds[i].map((g) => squadExactMatch(p ?? '', g)));
    f1 += Math.max(...golds[i].map((g) => squadF1(p ?? '', g)));
  });
  return { n: predictions.length, exact_match: ratio(em, predictions.length), f1: ratio(f1, predictions.length) };
}

export interface ReliabilityBin {
  /** Bin edges: confidences in (lo, hi]; the first bin also holds 0. */
  lo: number;
  hi: number;
  n: number;
  /** Mean correctness and mean confidence of the bin; null for an empty bin. */
  accuracy: number | null;
  confidence: number | null;
}

export interface Calibration {
  ece: number;
  bins: ReliabilityBin[];
}

/**
 * Expected calibration error over `binCount` equal-width confidence bins (Guo et al. 2017):
 * Σ_b |B|/n · |accuracy(B) − confidence(B)|, plus the per-bin reliability curve. Bin b holds
 * confidences in (b/B, (b+1)/B]; a confidence of exactly 0 falls in the first bin.
 */
export function calibration(confidence: readonly number[], correct: readonly boolean[], binCount = 15): Calibration {
  if (confidence.length !== correct.length)
    throw new RangeError(`calibration: ${confidence.length} confidences but ${correct.length} outcomes`);
  const n = new Array<number>(binCount).fill(0);
  const conf = new Array<number>(binCount).fill(0);
  const acc = new Array<number>(binCount).fill(0);
  confidence.forEach((c, i) => {
    if (!(c >= 0 && c <= 1)) throw new RangeError(`calibration: confidence ${c} is outside 0..1`);
    const b = Math.min(binCount - 1, Math.max(0, Math.ceil(c * binCount) - 1));
    n[b]++;
    conf[b] += c;
    if (correct[i]) acc[b]++;
  });
  let ece = 0;
  const bins: ReliabilityBin[] = n.map((count, b) => {
    const a = count > 0 ? acc[b] / count : null;
    const m = count > 0 ? conf[b] / count : null;
    if (count > 0) ece += (count / confidence.length) * Math.abs(a! - m!);
    return { lo: b / binCount, hi: (b + 1) / binCount, n: count, accuracy: a, confidence: m };
  });
  return { ece, bins };
}

export { seededRandom };

/** Linear-interpolated quantile of sorted values (numpy's default `linear` method). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface DeltaInterval {
  /** metric(B) − metric(A) on all events. */
  delta: number;
  ci95: [number, number];
  resamples: number;
  seed: number;
}

/**
 * Paired percentile bootstrap of metric(B) − metric(A): `resamples` times, draw n event indexes
 * with replacement (the same indexes for both models, which keeps the pairing), recompute both
 * metrics on them, and take the 2.5 % and 97.5 % quantiles of the deltas. `metric` receives the
 * index sample and the model ('a' | 'b'), so any metric (macro-F1, entity F1) can be resampled, not
 * only means. Deterministic for a given seed.
 */
export function bootstrapDelta(
  n: number,
  metric: (indexes: readonly number[], model: 'a' | 'b') => number,
  options: { resamples?: number; seed?: number } = {},
): DeltaInterval {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 20_240_601;
  const all = Array.from({ length: n }, (_, i) => i);
  const delta = metric(all, 'b') - metric(all, 'a');
  if (n === 0) return { delta: 0, ci95: [0, 0], resamples, seed };
  const random = seededRandom(seed);
  const deltas: number[] = [];
  const sample = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = Math.floor(random() * n);
    deltas.push(metric(sample, 'b') - metric(sample, 'a'));
  }
  deltas.sort((x, y) => x - y);
  return { delta, ci95: [quantile(deltas, 0.025), quantile(deltas, 0.975)], resamples, seed };
}

export interface McNemar {
  /** Events A got right and B wrong, and the reverse. */
  a_only: number;
  b_only: number;
  method: 'exact' | 'chi2-corrected';
  statistic: number | null;
  p_value: number;
}

/** Below this many discordant pairs the exact binomial test is used (the usual rule of thumb: 25). */
export const MCNEMAR_EXACT_BELOW = 25;

/**
 * McNemar's test on paired correctness. With b + c < 25 discordant pairs: the exact two-sided
 * binomial test, p = min(1, 2·P(X ≤ min(b, c))) for X ~ Bin(b + c, ½). Otherwise the χ² statistic
 * with Edwards' continuity correction, (|b − c| − 1)² / (b + c), against χ² with 1 degree of
 * freedom. No discordant pairs: p = 1.
 */
export function mcnemar(correctA: readonly boolean[], correctB: readonly boolean[]): McNemar {
  if (correctA.length !== correctB.length) throw new RangeError(`mcnemar: ${correctA.length} vs ${correctB.length} outcomes`);
  let b = 0;
  let c = 0;
  correctA.forEach((a, i) => {
    if (a && !correctB[i]) b++;
    else if (!a && correctB[i]) c++;
  });
  const m = b + c;
  if (m < MCNEMAR_EXACT_BELOW) {
    let tail = 0;
    for (let k = 0; k <= Math.min(b, c); k++) tail += Math.exp(logChoose(m, k) - m * Math.LN2);
    return { a_only: b, b_only: c, method: 'exact', statistic: null, p_value: Math.min(1, 2 * tail) };
  }
  const statistic = (Math.abs(b - c) - 1) ** 2 / m;
  return { a_only: b, b_only: c, method: 'chi2-corrected', statistic, p_value: erfc(Math.sqrt(statistic / 2)) };
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** Complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7). For χ²(1): P(X > x) = erfc(√(x/2)). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Share of events on which two models' outputs are equal under `same`. */
export function agreement<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): number {
  if (a.length !== b.length) throw new RangeError(`agreement: ${a.length} vs ${b.length} outputs`);
  let agree = 0;
  a.forEach((x, i) => {
    if (same(x, b[i])) agree++;
  });
  return ratio(agree, a.length);
}
