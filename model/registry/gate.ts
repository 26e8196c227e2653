/**
 * The promotion gate: a candidate may not be worse than the production version on any metric both
 * were evaluated on (same split, same metric) by more than a tolerance in points. Pure.
 */

/** split -> metric -> value, as in a model record. */
export type VersionMetrics = Record<string, Record<string, number>>;

/** Sizes of evaluation sets, not scores: never compared. */
const COUNT_METRICS = new Set(['examples', 'sentences', 'questions', 'count', 'n']);

export interface GateRegression {
  split: string;
  metric: string;
  production: number;
  candidate: number;
  /** production − candidate, in points (fractions are ×100). */
  dropPoints: number;
}

export interface GateResult {
  passed: boolean;
  /** Every shared metric where the candidate is worse by more than the tolerance, worst first. */
  regressions: GateRegression[];
  /** How many (split, metric) pairs both versions have. */
  compared: number;
}

/** A score as points: fractions in [0, 1] are ×100; larger values are taken as already in points. */
export function toPoints(value: number): number {
  return Math.abs(value) <= 1 ? value * 100 : value;
}

/** Compares a candidate's metrics with production's. Pure. */
export function checkGate(candidate: VersionMetrics, production: VersionMetrics, tolerancePoints: number): GateResult {
  const regressions: GateRegression[] = [];
  let compared = 0;
  for (const [split, prodMetrics] of Object.entries(production)) {
    const candMetrics = candidate[split];
    if (!candMetrics) continue;
    for (const [metric, prodValue] of Object.entries(prodMetrics)) {
      const candValue = candMetrics[metric];
      if (candValue === undefined || COUNT_METRICS.has(metric)) continue;
      compared++;
      const dropPoints = toPoints(prodValue) - toPoints(candValue);
      // Compared in points rounded to 1e-9 so 0.5 points exactly at a tolerance of 0.5 passes.
      if (Math.round(dropPoints * 1e9) / 1e9 > tolerancePoints)
        regressions.push({ split, metric, production: prodValue, candidate: candValue, dropPoints });
    }
  }
  regressions.sort((a, b) => b.dropPoints - a.dropPoints);
  return { passed: regressions.length === 0, regressions, compared };
}

/** One line per regression: `sst2/dev accuracy: candidate 87.39 < production 89.45 (−2.06 points; tolerance 0.5)`. */
export function describeRegression(r: GateRegression, tolerancePoints: number): string {
  // Three decimals below one point, so a drop just past the tolerance never prints as equal to it.
  const drop = r.dropPoints.toFixed(r.dropPoints < 1 ? 3 : 2);
  return `${r.split} ${r.metric}: candidate ${toPoints(r.candidate).toFixed(2)} < production ${toPoints(r.production).toFixed(2)} (−${drop} points; tolerance ${tolerancePoints})`;
}

/**
 * The metrics a model record carries, from a manifest's `metrics`: the `int8` block when the
 * manifest has per-precision blocks (the runtime serves the int8 encoder), else the block itself.
 * Non-numeric values are dropped.
 */
export function metricsFromManifest(metrics: unknown): VersionMetrics {
  if (metrics === null || typeof metrics !== 'object') return {};
  const block = (metrics as Record<string, unknown>).int8 ?? metrics;
  const out: VersionMetrics = {};
  for (const [split, values] of Object.entries(block as Record<string, unknown>)) {
    if (values === null || typeof values !== 'object') continue;
    const numeric = Object.entries(values as Record<string, unknown>).filter(
      (e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]),
    );
    if (numeric.length > 0) out[split] = Object.fromEntries(numeric);
  }
  return out;
}
