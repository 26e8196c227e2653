import { int8GemmPath } from './cpu';
import {
  compareFixture,
  compareOutputs,
  CROSS_PATH_TOLERANCE,
  DECISION_MARGIN,
  PARITY_TOLERANCE,
  SAME_PATH_TOLERANCE,
  toleranceFor,
} from './parity';
import type { PredictOutput } from './types';

// Hand-made outputs; the cases mirror training/tests/test_parity_check.py.
const base = (): PredictOutput => ({
  id: 'x',
  sentiment: { label: 'positive', scores: { negative: 0.2, positive: 0.8 } },
  entities: [
    { label: 'PER', text: 'Ann', start: 0, end: 3, score: 0.9 },
    { label: 'LOC', text: 'Rome', start: 12, end: 16, score: 0.95 },
  ],
  answers: [
    { question: 'q', answer: null, start: null, end: null, score: 0.01 },
    { question: 'who', answer: 'Ann', start: 0, end: 3, score: 0.6 },
  ],
  categories: {
    intents: [
      { label: 'a', score: 0.5 },
      { label: 'b', score: 0.3 },
      { label: 'c', score: 0.1 },
      { label: 'd', score: 0.097 },
    ],
  },
});
const paths = (e: PredictOutput, a: PredictOutput, options = {}): string[] => compareOutputs(e, a, options).map((d) => d.path);

describe('compareOutputs: probabilities', () => {
  it('accepts every probability within the tolerance and reports one beyond it', () => {
    const actual = base();
    actual.sentiment!.scores.positive += PARITY_TOLERANCE * 0.9;
    actual.entities![0].score -= PARITY_TOLERANCE * 0.9;
    actual.answers![1].score += PARITY_TOLERANCE * 0.9;
    actual.categories!.intents[1].score -= PARITY_TOLERANCE * 0.9;
    expect(compareOutputs(base(), actual)).toEqual([]);
    actual.entities![1].score += PARITY_TOLERANCE * 1.5;
    expect(paths(base(), actual)).toEqual(['x.entities[12:16 LOC].score']);
  });
  it('uses the tolerance it is given', () => {
    const actual = base();
    actual.sentiment!.scores.positive += 0.002;
    actual.sentiment!.scores.negative -= 0.002;
    expect(paths(base(), actual, { tolerance: 1e-3 })).toEqual(['x.sentiment.scores.negative', 'x.sentiment.scores.positive']);
  });
});

describe('compareOutputs: decisions', () => {
  it('reports a changed label, span, text, null answer and missing task when nothing was a near tie', () => {
    const actual = base();
    actual.sentiment!.label = 'negative';
    actual.entities![0] = { ...actual.entities![0], end: 4, text: 'Ann ' };
    actual.answers![0] = { ...actual.answers![0], answer: 'x', start: 0, end: 1 };
    delete actual.categories;
    expect(paths(base(), actual)).toEqual([
      'x.<tasks>',
      'x.sentiment.label',
      'x.entities[0:3 PER]',
      'x.entities[0:4 PER]',
      'x.answers[0].answer',
      'x.answers[0].start',
      'x.answers[0].end',
    ]);
    expect(paths(base(), { ...base(), entities: [] })).toEqual(['x.entities[0:3 PER]', 'x.entities[12:16 LOC]']);
  });
  it('lets a near-tied sentiment label flip, and only then', () => {
    const tie: PredictOutput = { id: 'x', sentiment: { label: 'positive', scores: { negative: 0.497, positive: 0.503 } } };
    const flipped: PredictOutput = { id: 'x', sentiment: { label: 'negative', scores: { negative: 0.5005, positive: 0.4995 } } };
    expect(compareOutputs(tie, flipped)).toEqual([]);
    const clear: PredictOutput = { id: 'x', sentiment: { label: 'positive', scores: { negative: 0.49, positive: 0.51 } } };
    expect(0.51 - 0.49).toBeGreaterThan(DECISION_MARGIN);
    expect(paths(clear, { id: 'x', sentiment: { label: 'negative', scores: { negative: 0.49, positive: 0.51 } } })).toEqual([
      'x.sentiment.label',
    ]);
  });
  it('lets near-tied category ranks swap and a label enter at the top-k cut, but not a clear rank', () => {
    const swapped = base();
    swapped.categories!.intents = [
      { label: 'a', score: 0.5 },
      { label: 'b', score: 0.3 },
      { label: 'd', score: 0.099 },
      { label: 'c', score: 0.098 },
    ];
    expect(compareOutputs(base(), swapped)).toEqual([]);
    const entered = base();
    entered.categories!.intents[3] = { label: 'e', score: 0.0975 };
    expect(compareOutputs(base(), entered)).toEqual([]);
    const clear = base();
    clear.categories!.intents = [{ label: 'b', score: 0.5 }, { label: 'a', score: 0.3 }, ...base().categories!.intents.slice(2)];
    expect(paths(base(), clear)).toEqual([
      'x.categories.intents[0].label',
      'x.categories.intents[1].label',
      'x.categories.intents.b.score',
      'x.categories.intents.a.score',
    ]);
    const entering = base();
    entering.categories!.intents[1] = { label: 'e', score: 0.3 };
    expect(paths(base(), entering)).toEqual(['x.categories.intents[1].label']);
  });
  it('exempts entities overlapping a near-tie range on both sides, and only those', () => {
    const actual = base();
    actual.entities![0] = { label: 'PER', text: 'Ann B', start: 0, end: 5, score: 0.7 };
    expect(compareOutputs(base(), actual, { nearTies: { entities: [[2, 7]] } })).toEqual([]);
    expect(paths(base(), actual, { nearTies: { entities: [[20, 25]] } })).toEqual(['x.entities[0:3 PER]', 'x.entities[0:5 PER]']);
  });
  it('exempts only the near-tie answers from span checks, never from the score check', () => {
    const actual = base();
    actual.answers![1] = { ...actual.answers![1], answer: 'Rome', start: 12, end: 16 };
    expect(compareOutputs(base(), actual, { nearTies: { answers: [1] } })).toEqual([]);
    expect(paths(base(), actual, { nearTies: { answers: [0] } })).toEqual([
      'x.answers[1].answer',
      'x.answers[1].start',
      'x.answers[1].end',
    ]);
    actual.answers![1].score = 0.5;
    expect(paths(base(), actual, { nearTies: { answers: [1] } })).toEqual(['x.answers[1].score']);
  });
});

describe('compareFixture', () => {
  const VNNI = { onnxruntime: '1.30.0', machine: 'x86_64', int8_gemm: 'avx512_vnni', cpu_flags: [] };
  const spanMoved = (): PredictOutput => {
    const actual = base();
    actual.answers![1] = { ...actual.answers![1], answer: 'Rome', start: 12, end: 16 };
    return actual;
  };
  it('applies each input its own near ties, within its margin, and accepts fixtures without them', () => {
    const pairs = [{ expected: base(), actual: spanMoved() }];
    const old = { expected: { int8: [base()] }, kernel: VNNI };
    expect(compareFixture(old, pairs, 'avx512_vnni').map((d) => d.path)).toEqual([
      'x.answers[1].answer',
      'x.answers[1].start',
      'x.answers[1].end',
    ]);
    const near = { ...old, near_ties: { epsilon: 0.4, inputs: { x: { answers: [[1, 0.004]] as Array<[number, number]> } } } };
    expect(compareFixture(near, pairs, 'avx512_vnni')).toEqual([]);
    // A near tie recorded with a margin wider than this comparison's is not exempt.
    const wide = { ...old, near_ties: { epsilon: 0.4, inputs: { x: { answers: [[1, 0.3]] as Array<[number, number]> } } } };
    expect(compareFixture(wide, pairs, 'avx512_vnni')).toHaveLength(3);
  });
  it('refuses near ties recorded for a smaller margin than the tolerance needs', () => {
    const fixture = { expected: { int8: [base()] }, kernel: VNNI, near_ties: { epsilon: 1e-3, inputs: {} } };
    expect(() => compareFixture(fixture, [{ expected: base(), actual: base() }], 'avx512_vnni')).toThrow(/near ties within 0.001/);
  });
  it('uses the cross-path tolerance only when the int8 paths differ in kind or are unknown', () => {
    expect(toleranceFor(VNNI, 'avx512_vnni')).toBe(SAME_PATH_TOLERANCE);
    expect(toleranceFor(VNNI, 'neon_dotprod')).toBe(SAME_PATH_TOLERANCE);
    expect(toleranceFor({ ...VNNI, int8_gemm: 'avx2 (u8s8 saturating)' }, 'avx512bw (u8s8 saturating)')).toBe(SAME_PATH_TOLERANCE);
    expect(toleranceFor(VNNI, 'avx2 (u8s8 saturating)')).toBe(CROSS_PATH_TOLERANCE);
    expect(toleranceFor(undefined, 'avx512_vnni')).toBe(CROSS_PATH_TOLERANCE);
    expect(toleranceFor(VNNI, 'unknown')).toBe(CROSS_PATH_TOLERANCE);
    const moved = base();
    moved.sentiment!.scores = { negative: 0.25, positive: 0.75 }; // Δ 0.05: beyond same-path, within cross-path
    const fixture = { expected: { int8: [base()] }, kernel: VNNI };
    expect(compareFixture(fixture, [{ expected: base(), actual: moved }], 'avx512_vnni').map((d) => d.path)).toEqual([
      'x.sentiment.scores.negative',
      'x.sentiment.scores.positive',
    ]);
    expect(compareFixture(fixture, [{ expected: base(), actual: moved }], 'avx2 (u8s8 saturating)')).toEqual([]);
  });
});

describe('int8GemmPath', () => {
  it('names the int8 path ONNX Runtime takes for each CPU kind', () => {
    expect(int8GemmPath(new Set(['avx2', 'avx512bw', 'avx512_vnni', 'sse4_1']), 'x64')).toBe('avx512_vnni');
    expect(int8GemmPath(new Set(['avx2', 'avx_vnni']), 'x64')).toBe('avx_vnni');
    expect(int8GemmPath(new Set(['avx2', 'fma', 'sse4_1']), 'x64')).toBe('avx2 (u8s8 saturating)');
    expect(int8GemmPath(new Set(['asimd', 'asimddp']), 'arm64')).toBe('neon_dotprod');
    expect(int8GemmPath(null, 'x64')).toBe('unknown');
  });
});
