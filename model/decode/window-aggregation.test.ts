import { softmax } from './softmax';
import { aggregateWindows, WINDOW_AGGREGATIONS } from './window-aggregation';

// Three windows of a text, labels [A, B]: the first very sure of A, the last two mildly for B; the
// last one short (6 text tokens: mostly the overlap). p(A) per window: σ(6) = 0.997527, σ(−2) = 0.119203.
const LOGITS = [Float32Array.from([6, 0]), Float32Array.from([0, 2]), Float32Array.from([0, 2])];
const TOKENS = [30, 30, 6];

describe('aggregateWindows', () => {
  it('mean-probabilities: mean of the softmaxes (0.997527 + 2 × 0.119203) / 3 = 0.411978 → B', () => {
    const p = aggregateWindows(LOGITS, TOKENS, 'mean-probabilities');
    expect(p[0]).toBeCloseTo(0.411978, 6);
    expect(p[1]).toBeCloseTo(1 - 0.411978, 6);
  });

  it('mean-logits: softmax of the mean logits [2, 4/3]: σ(2/3) = 0.660756 → A', () => {
    const p = aggregateWindows(LOGITS, TOKENS, 'mean-logits');
    expect(p[0]).toBeCloseTo(0.660756, 6);
    expect(p[1]).toBeCloseTo(1 - 0.660756, 6);
  });

  it('length-weighted: (30 × 0.997527 + 30 × 0.119203 + 6 × 0.119203) / 66 = 0.518441', () => {
    const p = aggregateWindows(LOGITS, TOKENS, 'length-weighted');
    expect(p[0]).toBeCloseTo(0.518441, 6);
    expect(p[1]).toBeCloseTo(1 - 0.518441, 6);
    // Equal lengths: the same as mean-probabilities.
    const equal = aggregateWindows(LOGITS, [7, 7, 7], 'length-weighted');
    const mean = aggregateWindows(LOGITS, [7, 7, 7], 'mean-probabilities');
    equal.forEach((v, k) => expect(v).toBeCloseTo(mean[k], 15));
  });

  it('defaults to mean-probabilities', () => {
    expect(Array.from(aggregateWindows(LOGITS, TOKENS))).toEqual(Array.from(aggregateWindows(LOGITS, TOKENS, 'mean-probabilities')));
  });

  it.each(WINDOW_AGGREGATIONS)('%s on one window is its softmax', (how) => {
    const z = Float32Array.from([0.5, -1.25, 2]);
    const p = aggregateWindows([z], [17], how);
    softmax(z).forEach((v, k) => expect(p[k]).toBeCloseTo(v, 15));
  });

  it('length-weighted on a text with no text token (one [CLS] [SEP] window) is that window softmax, not zeros', () => {
    const z = Float32Array.from([1, 0]);
    const p = aggregateWindows([z], [0], 'length-weighted');
    softmax(z).forEach((v, k) => expect(p[k]).toBeCloseTo(v, 15));
  });

  it('refuses no windows and mismatched shapes', () => {
    expect(() => aggregateWindows([], [])).toThrow(RangeError);
    expect(() => aggregateWindows(LOGITS, [1, 2])).toThrow(/3 windows but 2 token counts/);
    expect(() =>
      aggregateWindows(
        [
          [1, 2],
          [1, 2, 3],
        ],
        [1, 1],
      ),
    ).toThrow(/window 1 has 3 logits/);
  });
});
