import { checkGate, describeRegression, metricsFromManifest } from './gate';

const prod = { 'sst2/dev': { accuracy: 0.8945, macro_f1: 0.8944, examples: 872 }, 'conll2003/testa': { f1: 0.912 } };

describe('checkGate', () => {
  it('refuses a candidate worse by more than the tolerance, naming split, metric and both values', () => {
    const result = checkGate(
      { 'sst2/dev': { accuracy: 0.8739, macro_f1: 0.8944, examples: 1000 }, 'conll2003/testa': { f1: 0.913 } },
      prod,
      0.5,
    );
    expect(result.passed).toBe(false);
    expect(result.regressions).toHaveLength(1);
    expect(result.regressions[0]).toMatchObject({ split: 'sst2/dev', metric: 'accuracy', production: 0.8945, candidate: 0.8739 });
    expect(describeRegression(result.regressions[0]!, 0.5)).toBe(
      'sst2/dev accuracy: candidate 87.39 < production 89.45 (−2.06 points; tolerance 0.5)',
    );
  });

  it('passes at exactly the tolerance and fails just past it', () => {
    expect(checkGate({ s: { f1: 0.85 } }, { s: { f1: 0.855 } }, 0.5).passed).toBe(true);
    const past = checkGate({ s: { f1: 0.8499 } }, { s: { f1: 0.855 } }, 0.5);
    expect(past.passed).toBe(false);
    expect(describeRegression(past.regressions[0]!, 0.5)).toBe('s f1: candidate 84.99 < production 85.50 (−0.510 points; tolerance 0.5)');
  });

  it('compares only shared (split, metric) pairs and never set sizes', () => {
    const result = checkGate({ 'sst2/dev': { accuracy: 0.9, examples: 1 }, 'other/dev': { f1: 0.1 } }, prod, 0.5);
    expect(result).toEqual({ passed: true, regressions: [], compared: 1 });
  });

  it('a version without metrics passes (nothing to compare)', () => {
    expect(checkGate({}, prod, 0.5)).toEqual({ passed: true, regressions: [], compared: 0 });
  });

  it('lists every regression, worst first', () => {
    const result = checkGate({ 'sst2/dev': { accuracy: 0.88, macro_f1: 0.85 }, 'conll2003/testa': { f1: 0.9 } }, prod, 0.5);
    expect(result.regressions.map((r) => `${r.split}/${r.metric}`)).toEqual([
      'sst2/dev/macro_f1',
      'sst2/dev/accuracy',
      'conll2003/testa/f1',
    ]);
  });
});

describe('metricsFromManifest', () => {
  it('takes the int8 block when the manifest has per-precision blocks, numbers only', () => {
    expect(metricsFromManifest({ fp32: { a: { x: 1 } }, int8: { 'sst2/dev': { accuracy: 0.9, note: 'x' } } })).toEqual({
      'sst2/dev': { accuracy: 0.9 },
    });
  });
  it('takes a flat block as it is, and nothing from a missing one', () => {
    expect(metricsFromManifest({ 'sst2/dev': { accuracy: 0.9 } })).toEqual({ 'sst2/dev': { accuracy: 0.9 } });
    expect(metricsFromManifest(undefined)).toEqual({});
  });
});
