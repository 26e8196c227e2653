import type { CategoryResult, EntityResult, PredictOutput, SentimentResult, AnswerResult } from './types';

/**
 * Parity across CPUs (model/README.md "Parity across CPUs"). ONNX Runtime's int8 kernels differ by
 * CPU: VNNI, AMX, SSE4.1 and NEON sum exact int32 products; AVX2 and AVX-512BW without VNNI sum u8·s8
 * pairs in saturating int16. So probabilities move from machine to machine. Hence:
 * - every probability is compared within SAME_PATH_TOLERANCE when this machine's int8 path is of the
 *   same kind as the fixture's (`kernel.int8_gemm`), else within CROSS_PATH_TOLERANCE: each is the
 *   largest move measured between such paths (7.3e-5 exact vs exact; 0.124 exact vs saturating, on
 *   the released models), doubled;
 * - a discrete decision (label, rank, entity span, answer span or its null-ness) must be identical
 *   unless it was a near tie when the fixture was made: margin to the runner-up ≤ 2 × tolerance
 *   (both sides of a comparison may move). Sentiment and category margins are read from the
 *   fixture's scores; entity and answer margins are not in the output, so the fixture lists those
 *   near ties with their margins (`near_ties`, written by training/trident_training/parity_fixture.py).
 * The Python twin is training/trident_training/parity_check.py (same rules, same kind of tests).
 */
export const SAME_PATH_TOLERANCE = 5e-3;
export const CROSS_PATH_TOLERANCE = 0.25;
export const PARITY_TOLERANCE = SAME_PATH_TOLERANCE;
export const DECISION_MARGIN = 2 * PARITY_TOLERANCE;

/** Whether an int8 path sums u8·s8 pairs in saturating int16; null when unknown. */
export function saturating(int8Gemm: string | undefined): boolean | null {
  if (!int8Gemm || int8Gemm === 'unknown') return null;
  return int8Gemm.startsWith('avx2') || int8Gemm.startsWith('avx512bw');
}

/** SAME_PATH_TOLERANCE when both int8 paths are known and of one kind, else CROSS_PATH_TOLERANCE. */
export function toleranceFor(fixtureKernel: ParityFixtureMeta['kernel'], runtimeInt8Gemm: string): number {
  const a = saturating(fixtureKernel?.int8_gemm);
  const b = saturating(runtimeInt8Gemm);
  return a !== null && a === b ? SAME_PATH_TOLERANCE : CROSS_PATH_TOLERANCE;
}

/** One difference between a runtime output and the expected one. */
export interface ParityDiff {
  id: string;
  path: string;
  expected: unknown;
  actual: unknown;
}

/** One input's near ties: UTF-16 [start, end) ranges where entities may differ; question indexes whose answer may. */
export interface NearTies {
  entities?: Array<[number, number]>;
  answers?: number[];
}

export interface CompareOptions {
  /** Largest allowed |Δp| of any probability (default PARITY_TOLERANCE). */
  tolerance?: number;
  /** Decisions whose fixture margin is at most this may differ (default 2 × tolerance). */
  margin?: number;
  nearTies?: NearTies;
}

/** One input's recorded near ties, each with its margin: entities [start, end, margin], answers [index, margin]. */
export interface RecordedNearTies {
  entities?: Array<[number, number, number]>;
  answers?: Array<[number, number]>;
}

/** The optional fields of parity.json that say how it was made (absent in older fixtures). */
export interface ParityFixtureMeta {
  kernel?: { onnxruntime: string; machine: string; int8_gemm: string; cpu_flags: string[] };
  near_ties?: { epsilon: number; inputs: Record<string, RecordedNearTies> };
}

/** Every difference the rules above do not allow; [] when the outputs agree. Pure. */
export function compareOutputs(expected: PredictOutput, actual: PredictOutput, options: CompareOptions = {}): ParityDiff[] {
  const tolerance = options.tolerance ?? PARITY_TOLERANCE;
  const margin = options.margin ?? 2 * tolerance;
  const diffs: ParityDiff[] = [];
  const id = expected.id;
  const diff = (path: string, e: unknown, a: unknown): void => {
    diffs.push({ id, path: `${id}.${path}`, expected: e, actual: a });
  };
  const close = (path: string, e: number, a: unknown): void => {
    if (!(typeof a === 'number' && Math.abs(e - a) <= tolerance)) diff(path, e, a);
  };
  const keys = (o: object): string[] => Object.keys(o).sort();
  if (keys(expected).join() !== keys(actual).join()) diff('<tasks>', keys(expected), keys(actual));
  if (actual.id !== id) diff('id', id, actual.id);
  if (expected.sentiment && actual.sentiment) compareSentiment(expected.sentiment, actual.sentiment, margin, diff, close);
  if (expected.categories && actual.categories) {
    const e = expected.categories;
    const a = actual.categories;
    if (keys(e).join() !== keys(a).join()) diff('categories.<heads>', keys(e), keys(a));
    for (const head of keys(e).filter((h) => h in a)) compareRanked(e[head], a[head], `categories.${head}`, margin, diff, close);
  }
  if (expected.entities && actual.entities)
    compareEntities(expected.entities, actual.entities, options.nearTies?.entities ?? [], diff, close);
  if (expected.answers && actual.answers) compareAnswers(expected.answers, actual.answers, options.nearTies?.answers ?? [], diff, close);
  return diffs;
}

/** The recorded near ties whose margin is at most `margin`. */
function nearTiesWithin(recorded: RecordedNearTies | undefined, margin: number): NearTies {
  return {
    entities: (recorded?.entities ?? []).filter(([, , m]) => m <= margin).map(([start, end]) => [start, end] as [number, number]),
    answers: (recorded?.answers ?? []).filter(([, m]) => m <= margin).map(([i]) => i),
  };
}

/**
 * Compares a parity.json's int8 outputs with the runtime's, computed on a machine whose int8 path is
 * `runtimeInt8Gemm` (./cpu.ts), using the fixture's near ties.
 */
export function compareFixture(
  fixture: ParityFixtureMeta & { expected: { int8: PredictOutput[] } },
  pairs: Array<{ expected: PredictOutput; actual: PredictOutput }>,
  runtimeInt8Gemm: string,
  tolerance = toleranceFor(fixture.kernel, runtimeInt8Gemm),
): ParityDiff[] {
  const recorded = fixture.near_ties;
  if (recorded && recorded.epsilon < 2 * tolerance) {
    throw new Error(
      `parity.json lists near ties within ${recorded.epsilon}, but tolerance ${tolerance} needs those within ${2 * tolerance}: rerun python -m trident_training.parity_fixture`,
    );
  }
  return pairs.flatMap(({ expected, actual }) =>
    compareOutputs(expected, actual, { tolerance, nearTies: nearTiesWithin(recorded?.inputs[expected.id], 2 * tolerance) }),
  );
}

type Diff = (path: string, e: unknown, a: unknown) => void;
type Close = (path: string, e: number, a: unknown) => void;

function compareSentiment(e: SentimentResult, a: SentimentResult, margin: number, diff: Diff, close: Close): void {
  const labels = Object.keys(e.scores).sort();
  if (labels.join() !== Object.keys(a.scores).sort().join()) {
    diff('sentiment.scores.<labels>', labels, Object.keys(a.scores).sort());
    return;
  }
  for (const label of labels) close(`sentiment.scores.${label}`, e.scores[label], a.scores[label]);
  const top = Math.max(...Object.values(e.scores));
  // The label may differ only to one that was within the margin of the top when the fixture was made.
  if (a.label !== e.label && !(a.label in e.scores && top - e.scores[a.label] <= margin)) diff('sentiment.label', e.label, a.label);
}

/** Top-k lists, best first: scores rank by rank; a label may move only among near-tied ranks. */
function compareRanked(e: CategoryResult[], a: CategoryResult[], path: string, margin: number, diff: Diff, close: Close): void {
  if (e.length !== a.length) {
    diff(`${path}.length`, e.length, a.length);
    return;
  }
  const expectedScore = new Map(e.map((x) => [x.label, x.score]));
  const last = e[e.length - 1]?.score ?? 0;
  e.forEach((x, i) => {
    const y = a[i];
    close(`${path}[${i}].score`, x.score, y.score);
    if (y.label === x.label) return;
    const other = expectedScore.get(y.label);
    // A label from just below the top-k cut may enter it.
    const allowed = other !== undefined ? Math.abs(other - x.score) <= margin : x.score - last <= margin;
    if (!allowed) diff(`${path}[${i}].label`, x.label, y.label);
  });
  for (const y of a) {
    const other = expectedScore.get(y.label);
    if (other !== undefined) close(`${path}.${y.label}.score`, other, y.score);
  }
}

/** Entities away from near-tie words: same label, text, start and end; score within tolerance. */
function compareEntities(e: EntityResult[], a: EntityResult[], ranges: Array<[number, number]>, diff: Diff, close: Close): void {
  const firm = (list: EntityResult[]): Map<string, EntityResult> =>
    new Map(
      list
        .filter((x) => !ranges.some(([start, end]) => x.start < end && start < x.end))
        .map((x) => [`${x.start}:${x.end} ${x.label} ${JSON.stringify(x.text)}`, x]),
    );
  const firmExpected = firm(e);
  const firmActual = firm(a);
  for (const [key, x] of firmExpected) {
    const y = firmActual.get(key);
    if (y) close(`entities[${x.start}:${x.end} ${x.label}].score`, x.score, y.score);
    else diff(`entities[${x.start}:${x.end} ${x.label}]`, x, null);
  }
  for (const [key, y] of firmActual) if (!firmExpected.has(key)) diff(`entities[${y.start}:${y.end} ${y.label}]`, null, y);
}

function compareAnswers(e: AnswerResult[], a: AnswerResult[], near: number[], diff: Diff, close: Close): void {
  if (e.length !== a.length) {
    diff('answers.length', e.length, a.length);
    return;
  }
  e.forEach((x, i) => {
    const y = a[i];
    if (x.question !== y.question) diff(`answers[${i}].question`, x.question, y.question);
    close(`answers[${i}].score`, x.score, y.score);
    if (near.includes(i)) return;
    for (const field of ['answer', 'start', 'end'] as const) if (x[field] !== y[field]) diff(`answers[${i}].${field}`, x[field], y[field]);
  });
}
