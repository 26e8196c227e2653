/**
 * Input and output drift: a profile of texts and model outputs (histograms of token length,
 * unknown-token rate and non-Latin share; label distribution and confidence histogram per task),
 * stored with the artifact as `profile.json` (the reference, computed at export from training texts)
 * and built the same way from a replayed range; the population stability index (PSI) compares them.
 *
 * Verdict per feature and overall (the worst feature): PSI < 0.1 stable, 0.1 ≤ PSI < 0.25 watch,
 * PSI ≥ 0.25 drifted — the thresholds credit scoring has used for decades (Siddiqi 2006), and the
 * ones most monitoring tools default to.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TokenizedText } from '../tokenize';
import type { PredictOutput } from '../types';
import type { EvalEvent } from './score';

export const PROFILE_FILE = 'profile.json';
export const PROFILE_FORMAT = 'trident-profile/1';
export const PSI_WATCH = 0.1;
export const PSI_DRIFTED = 0.25;
/** Floor for an empty bin's share, so PSI stays finite (a bin empty on one side counts as 0.01 %). */
export const PSI_EPSILON = 1e-4;
/** Below this many texts PSI is noisy (a 77-label histogram of 20 events always looks drifted): the report says so. */
export const DRIFT_MIN_TEXTS = 200;

/** Upper bin edges (a value v falls in the first bin with v ≤ edge; the last bin is open-ended). */
export const FEATURE_EDGES = {
  length_tokens: [8, 16, 32, 64, 128, 256, 512, 1024],
  unknown_rate: [0, 0.01, 0.02, 0.05, 0.1, 0.2],
  non_latin_share: [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75],
} as const;
export const CONFIDENCE_EDGES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export type FeatureName = keyof typeof FEATURE_EDGES;

/** `counts` has one more entry than `edges` (the open last bin). */
export interface Histogram {
  edges: number[];
  counts: number[];
}

/** profile.json. `labels[task][label]` counts predicted labels (entity types for `entities`). */
export interface Profile {
  format: typeof PROFILE_FORMAT;
  source: string;
  texts: number;
  features: Record<FeatureName, Histogram>;
  labels: Record<string, Record<string, number>>;
  confidence: Record<string, Histogram>;
}

export type Verdict = 'stable' | 'watch' | 'drifted';

export interface DriftRow {
  feature: string;
  psi: number;
  verdict: Verdict;
}

export interface DriftReport {
  available: true;
  reference: { source: string; texts: number };
  texts: number;
  verdict: Verdict;
  thresholds: { watch: number; drifted: number };
  /** Set when fewer than DRIFT_MIN_TEXTS texts were compared. */
  warning?: string;
  features: DriftRow[];
}

export function binIndex(edges: readonly number[], value: number): number {
  for (let i = 0; i < edges.length; i++) if (value <= edges[i]) return i;
  return edges.length;
}

const LETTER = /\p{L}/u;
const LATIN = /\p{Script=Latin}/u;

/** Share of letters that are not Latin script (0 for a text without letters). Pure. */
export function nonLatinShare(text: string): number {
  let letters = 0;
  let other = 0;
  for (const ch of text) {
    if (!LETTER.test(ch)) continue;
    letters++;
    if (!LATIN.test(ch)) other++;
  }
  return letters === 0 ? 0 : other / letters;
}

/** The three text features of one tokenised text. Pure. */
export function textFeatures(tokens: TokenizedText, unknownId: number | null): Record<FeatureName, number> {
  let unknown = 0;
  if (unknownId !== null) for (const id of tokens.ids) if (id === unknownId) unknown++;
  return {
    length_tokens: tokens.ids.length,
    unknown_rate: tokens.ids.length === 0 ? 0 : unknown / tokens.ids.length,
    non_latin_share: nonLatinShare(tokens.text),
  };
}

/** Accumulates a profile from texts and outputs, one at a time. */
export class ProfileBuilder {
  private texts = 0;
  private readonly features = Object.fromEntries(
    Object.entries(FEATURE_EDGES).map(([k, e]) => [k, { edges: [...e], counts: new Array<number>(e.length + 1).fill(0) }]),
  ) as Record<FeatureName, Histogram>;
  private readonly labels: Record<string, Record<string, number>> = {};
  private readonly confidence: Record<string, Histogram> = {};

  addText(features: Record<FeatureName, number>): void {
    this.texts++;
    for (const name of Object.keys(FEATURE_EDGES) as FeatureName[])
      this.features[name].counts[binIndex(FEATURE_EDGES[name], features[name])]++;
  }

  addOutput(output: PredictOutput, categoryKey: (head: string) => string): void {
    if (output.sentiment) this.addPrediction('sentiment', output.sentiment.label, output.sentiment.scores[output.sentiment.label] ?? 0);
    for (const e of output.entities ?? []) this.addPrediction('entities', e.label, e.score);
    for (const a of output.answers ?? []) this.addPrediction('answers', a.answer === null ? 'no_answer' : 'answer', a.score);
    for (const [head, list] of Object.entries(output.categories ?? {}))
      if (list[0]) this.addPrediction(categoryKey(head), list[0].label, list[0].score);
  }

  private addPrediction(task: string, label: string, confidence: number): void {
    const labels = (this.labels[task] ??= {});
    labels[label] = (labels[label] ?? 0) + 1;
    const hist = (this.confidence[task] ??= {
      edges: [...CONFIDENCE_EDGES],
      counts: new Array<number>(CONFIDENCE_EDGES.length + 1).fill(0),
    });
    hist.counts[binIndex(CONFIDENCE_EDGES, confidence)]++;
  }

  build(source: string): Profile {
    return { format: PROFILE_FORMAT, source, texts: this.texts, features: this.features, labels: this.labels, confidence: this.confidence };
  }
}

/**
 * Population stability index Σ (a − e)·ln(a / e) over bins, with a and e the live and reference
 * shares; empty bins count as PSI_EPSILON. Pure. Throws RangeError on mismatched bins.
 */
export function psi(reference: readonly number[], live: readonly number[]): number {
  if (reference.length !== live.length) throw new RangeError(`psi: ${reference.length} reference bins but ${live.length} live bins`);
  const shares = (xs: readonly number[]): number[] => {
    const total = xs.reduce((s, x) => s + x, 0);
    return xs.map((x) => Math.max(PSI_EPSILON, total > 0 ? x / total : 0));
  };
  const e = shares(reference);
  const a = shares(live);
  return a.reduce((s, ai, i) => s + (ai - e[i]) * Math.log(ai / e[i]), 0);
}

export function verdictOf(value: number): Verdict {
  return value >= PSI_DRIFTED ? 'drifted' : value >= PSI_WATCH ? 'watch' : 'stable';
}

/** Label distributions as aligned count vectors over the union of both label sets. */
function alignLabels(ref: Record<string, number>, live: Record<string, number>): [number[], number[]] {
  const labels = [...new Set([...Object.keys(ref), ...Object.keys(live)])].sort();
  return [labels.map((l) => ref[l] ?? 0), labels.map((l) => live[l] ?? 0)];
}

/** PSI per feature of `live` against `reference`, and the overall verdict (the worst feature). Pure. */
export function compareProfiles(reference: Profile, live: Profile): DriftReport {
  const rows: DriftRow[] = [];
  const add = (feature: string, r: number[], l: number[]): void => {
    if (l.reduce((s, x) => s + x, 0) === 0 || r.reduce((s, x) => s + x, 0) === 0) return;
    const value = psi(r, l);
    rows.push({ feature, psi: value, verdict: verdictOf(value) });
  };
  for (const name of Object.keys(FEATURE_EDGES) as FeatureName[]) add(name, reference.features[name].counts, live.features[name].counts);
  for (const task of Object.keys(live.labels).sort())
    if (reference.labels[task]) add(`labels:${task}`, ...alignLabels(reference.labels[task], live.labels[task]));
  for (const task of Object.keys(live.confidence).sort())
    if (reference.confidence[task]) add(`confidence:${task}`, reference.confidence[task].counts, live.confidence[task].counts);
  const worst = rows.reduce((m, r) => Math.max(m, r.psi), 0);
  return {
    available: true,
    reference: { source: reference.source, texts: reference.texts },
    texts: live.texts,
    verdict: verdictOf(worst),
    thresholds: { watch: PSI_WATCH, drifted: PSI_DRIFTED },
    features: rows,
    ...(live.texts < DRIFT_MIN_TEXTS
      ? { warning: `only ${live.texts} texts (fewer than ${DRIFT_MIN_TEXTS}): PSI is noisy at this size, read the verdict with care` }
      : {}),
  };
}

/** Reads an artifact's profile.json; null when it has none. Throws on a malformed file. */
export function readProfile(artifact: string): Profile | null {
  const file = path.join(artifact, PROFILE_FILE);
  if (!existsSync(file)) return null;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  if (profile.format !== PROFILE_FORMAT) throw new RangeError(`${file}: format ${String(profile.format)}, expected ${PROFILE_FORMAT}`);
  return profile;
}

/** report.json's drift entry for one model. */
export function driftSection(
  artifact: string,
  events: readonly EvalEvent[],
  live: Profile,
): DriftReport | { available: false; reason: string } {
  const reference = readProfile(artifact);
  if (!reference)
    return {
      available: false,
      reason: `${path.join(artifact, PROFILE_FILE)} does not exist (artifacts exported before profiles were added have none)`,
    };
  if (events.length === 0) return { available: false, reason: 'no events were evaluated' };
  return compareProfiles(reference, live);
}
