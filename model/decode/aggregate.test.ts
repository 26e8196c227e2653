import { aggregateWords } from './aggregate';

// 3 labels; tokens: [word0: t0 t1] [none: t2] [word1: t3]
const probs = [
  0.6,
  0.3,
  0.1, //
  0.1,
  0.1,
  0.8, //
  1.0,
  0.0,
  0.0, //
  0.2,
  0.7,
  0.1,
];
const wordIds = [0, 0, -1, 1];

describe('aggregateWords', () => {
  it('first: the first sub-token decides', () => {
    const w = aggregateWords(probs, 3, wordIds, 'first');
    expect(w.map((x) => [x.word, x.firstToken, x.lastToken, x.labelIndex])).toEqual([
      [0, 0, 1, 0],
      [1, 3, 3, 1],
    ]);
    expect(w[0].score).toBeCloseTo(0.6, 12);
  });
  it('average: mean vector, then argmax', () => {
    const w = aggregateWords(probs, 3, wordIds, 'average');
    expect(w[0].labelIndex).toBe(2);
    expect(w[0].score).toBeCloseTo(0.45, 12);
  });
  it('max: element-wise max, then argmax', () => {
    const w = aggregateWords(probs, 3, wordIds, 'max');
    expect(w[0].labelIndex).toBe(2);
    expect(w[0].score).toBeCloseTo(0.8, 12);
  });
  it('skips tokens outside words and handles no tokens', () => {
    expect(aggregateWords([], 3, [], 'first')).toEqual([]);
    expect(aggregateWords([1, 0, 0], 3, [-1], 'first')).toEqual([]);
  });
});
