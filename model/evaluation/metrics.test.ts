import {
  agreement,
  answers,
  bootstrapDelta,
  calibration,
  classification,
  entities,
  erfc,
  mcnemar,
  normalizeAnswer,
  quantile,
  squadF1,
} from './metrics';

const close = (x: number, y: number, digits = 9): void => expect(x).toBeCloseTo(y, digits);

describe('classification', () => {
  // gold: a a a b b c ; pred: a a b b c c
  // a: tp 2, predicted 2, support 3 → P 1, R 2/3, F1 0.8
  // b: tp 1, predicted 2, support 2 → P 0.5, R 0.5, F1 0.5
  // c: tp 1, predicted 2, support 1 → P 0.5, R 1, F1 2/3
  // d: never seen → 0 (still in the macro average, as in the Python evaluator)
  const m = classification(['a', 'a', 'a', 'b', 'b', 'c'], ['a', 'a', 'b', 'b', 'c', 'c'], ['a', 'b', 'c', 'd']);
  it('computes accuracy, per-label and macro P/R/F1 by hand', () => {
    expect(m.n).toBe(6);
    close(m.accuracy, 4 / 6);
    close(m.per_label.a.precision, 1);
    close(m.per_label.a.recall, 2 / 3);
    close(m.per_label.a.f1, 0.8);
    close(m.per_label.b.f1, 0.5);
    close(m.per_label.c.f1, 2 / 3);
    expect(m.per_label.d).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    close(m.macro_f1, (0.8 + 0.5 + 2 / 3 + 0) / 4);
    close(m.macro_precision, (1 + 0.5 + 0.5) / 4);
    close(m.macro_recall, (2 / 3 + 0.5 + 1) / 4);
  });
  it('builds the confusion matrix gold × predicted', () => {
    expect(m.confusion).toEqual({
      labels: ['a', 'b', 'c', 'd'],
      matrix: [
        [2, 1, 0, 0],
        [0, 1, 1, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 0],
      ],
    });
  });
  it('appends labels missing from the label list instead of dropping events', () => {
    const x = classification(['x'], ['a'], ['a']);
    expect(x.confusion.labels).toEqual(['a', 'x']);
    expect(x.accuracy).toBe(0);
  });
  it('rejects unequal lengths', () => {
    expect(() => classification(['a'], [], ['a'])).toThrow(RangeError);
  });
});

describe('entities (conlleval exact span)', () => {
  const gold = [
    [
      { label: 'PER', start: 0, end: 12 },
      { label: 'LOC', start: 23, end: 29 },
    ],
    [{ label: 'ORG', start: 0, end: 6 }],
  ];
  const pred = [
    [
      { label: 'PER', start: 0, end: 12 }, // exact: correct
      { label: 'LOC', start: 23, end: 28 }, // one char short: wrong
    ],
    [
      { label: 'PER', start: 0, end: 6 }, // right span, wrong type: wrong
      { label: 'MISC', start: 10, end: 14 }, // spurious
    ],
  ];
  it('counts only exact (start, end, type) matches, micro and per type', () => {
    const m = entities(gold, pred);
    // tp 1, gold 3, predicted 4 → P 0.25, R 1/3, F1 2·(1/4·1/3)/(1/4+1/3) = 2/7
    close(m.precision, 0.25);
    close(m.recall, 1 / 3);
    close(m.f1, 2 / 7);
    expect(m.gold_entities).toBe(3);
    expect(m.predicted_entities).toBe(4);
    expect(Object.keys(m.per_type)).toEqual(['LOC', 'MISC', 'ORG', 'PER']);
    expect(m.per_type.PER).toEqual({ precision: 0.5, recall: 1, f1: 2 / 3, support: 1 });
    expect(m.per_type.LOC).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(m.per_type.MISC.support).toBe(0);
  });
  it('counts a duplicated span once', () => {
    const m = entities(
      [[{ label: 'PER', start: 0, end: 3 }]],
      [
        [
          { label: 'PER', start: 0, end: 3 },
          { label: 'PER', start: 0, end: 3 },
        ],
      ],
    );
    expect(m.f1).toBe(1);
  });
});

describe('SQuAD answers (official normalisation)', () => {
  it('normalises like evaluate-v1.1.py', () => {
    expect(normalizeAnswer('The  Eiffel-Tower!')).toBe('eiffeltower');
    expect(normalizeAnswer('an apple, a pear and THE fig')).toBe('apple pear and fig');
    expect(normalizeAnswer('theory')).toBe('theory'); // articles only as whole words
    expect(normalizeAnswer('« Été »')).toBe('« été »'); // only ASCII punctuation is removed
  });
  it('computes token F1 with multiplicity', () => {
    // pred "new york new" vs gold "new york": common {new:1, york:1} = 2; P 2/3, R 1 → 0.8
    close(squadF1('new york new', 'new york'), 0.8);
    expect(squadF1('', 'x')).toBe(0);
  });
  it('takes the max over gold answers and averages over questions', () => {
    const m = answers(['the Eiffel Tower', 'Paris France', null], [['Eiffel Tower', 'tower'], ['Paris'], ['London']]);
    // q1: EM 1, F1 1; q2: EM 0, F1 P 1/2 R 1 → 2/3; q3: 0, 0
    close(m.exact_match, 1 / 3);
    close(m.f1, (1 + 2 / 3) / 3);
    expect(m.n).toBe(3);
  });
});

describe('calibration (ECE, 15 bins)', () => {
  it('computes ECE by hand', () => {
    // 0.95 ×2 (1 right) → bin 14: acc .5, conf .95, weight 2/4; 0.5 ×2 (both right) → bin 7: acc 1, conf .5, weight 2/4
    const c = calibration([0.95, 0.95, 0.5, 0.5], [true, false, true, true]);
    close(c.ece, 0.5 * 0.45 + 0.5 * 0.5);
    expect(c.bins).toHaveLength(15);
    expect(c.bins[14]).toMatchObject({ n: 2, accuracy: 0.5 });
    close(c.bins[14].confidence!, 0.95);
    expect(c.bins[7]).toMatchObject({ n: 2, accuracy: 1, confidence: 0.5 });
    expect(c.bins[0]).toMatchObject({ n: 0, accuracy: null, confidence: null });
  });
  it('puts edges in the lower bin and 0 in the first', () => {
    const c = calibration([0, 1 / 15, 1], [false, true, true]);
    expect(c.bins[0].n).toBe(2);
    expect(c.bins[14].n).toBe(1);
  });
  it('is 0 for a perfectly calibrated model', () => {
    expect(calibration([1, 1], [true, true]).ece).toBe(0);
  });
  it('rejects a confidence outside 0..1', () => {
    expect(() => calibration([1.5], [true])).toThrow(RangeError);
  });
});

describe('bootstrap delta', () => {
  const a = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0];
  const b = [1, 1, 1, 0, 1, 1, 1, 0, 1, 1];
  const mean = (xs: number[]) => (idx: readonly number[]) => idx.reduce((s, i) => s + xs[i], 0) / idx.length;
  const metric = (idx: readonly number[], m: 'a' | 'b') => (m === 'a' ? mean(a) : mean(b))(idx);
  it('is deterministic for a seed and brackets the observed delta', () => {
    const x = bootstrapDelta(a.length, metric, { seed: 7 });
    const y = bootstrapDelta(a.length, metric, { seed: 7 });
    expect(x).toEqual(y);
    close(x.delta, 0.3);
    expect(x.resamples).toBe(1000);
    expect(x.ci95[0]).toBeLessThanOrEqual(0.3);
    expect(x.ci95[1]).toBeGreaterThanOrEqual(0.3);
    // B is never worse on any event, so no resample can have a negative delta.
    expect(x.ci95[0]).toBeGreaterThanOrEqual(0);
  });
  it('has a zero-width interval when the models are identical', () => {
    const same = bootstrapDelta(a.length, (idx) => mean(a)(idx));
    expect(same).toMatchObject({ delta: 0, ci95: [0, 0] });
  });
  it('uses linear-interpolated quantiles', () => {
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
  });
});

describe('McNemar', () => {
  it('uses the exact binomial test for few discordant pairs', () => {
    // b = 1 (A only), c = 4 (B only): p = 2·P(X ≤ 1), X ~ Bin(5, ½) = 2·(1 + 5)/32 = 0.375
    const A = [true, false, false, false, false, true];
    const B = [false, true, true, true, true, true];
    const m = mcnemar(A, B);
    expect(m).toMatchObject({ a_only: 1, b_only: 4, method: 'exact', statistic: null });
    close(m.p_value, 0.375);
    expect(mcnemar([true], [true]).p_value).toBe(1);
  });
  it('uses χ² with continuity correction from 25 discordant pairs', () => {
    // b = 5, c = 25: χ² = (|5 − 25| − 1)² / 30 = 361/30 = 12.0333; p = erfc(√(χ²/2)) ≈ 0.000522
    const A = [...Array(5).fill(true), ...Array(25).fill(false)];
    const B = [...Array(5).fill(false), ...Array(25).fill(true)];
    const m = mcnemar(A, B);
    expect(m.method).toBe('chi2-corrected');
    close(m.statistic!, 361 / 30);
    close(m.p_value, 0.000522, 5);
  });
  it('erfc matches known values', () => {
    close(erfc(0), 1, 6);
    close(erfc(1), 0.157299207, 6);
    close(erfc(-1), 1.842700793, 6);
  });
});

describe('agreement', () => {
  it('is the share of equal outputs', () => {
    expect(agreement(['a', 'b', 'c', 'd'], ['a', 'b', 'x', 'd'], (x, y) => x === y)).toBe(0.75);
  });
});
