import { bestWindowPerToken, questionRows, textRows, windowRanges } from './windows';

const sp = { cls: 101, sep: 102, pad: 0 };

describe('windowRanges (HF overflow + stride)', () => {
  it('keeps a short sequence whole', () => {
    expect(windowRanges(5, 10, 2)).toEqual([[0, 5]]);
  });
  it('steps by size − stride and stops at the first window reaching the end', () => {
    expect(windowRanges(10, 4, 2)).toEqual([
      [0, 4],
      [2, 6],
      [4, 8],
      [6, 10],
    ]);
    expect(windowRanges(11, 4, 1)).toEqual([
      [0, 4],
      [3, 7],
      [6, 10],
      [9, 11],
    ]);
  });
  it('rejects stride ≥ size', () => {
    expect(() => windowRanges(10, 4, 4)).toThrow(RangeError);
  });
});

describe('textRows', () => {
  it('frames each window with [CLS] … [SEP], never longer than max_length', () => {
    const rows = textRows([1, 2, 3, 4, 5, 6, 7], 6, 1, sp);
    expect(rows.map((r) => Array.from(r.ids))).toEqual([
      [101, 1, 2, 3, 4, 102],
      [101, 4, 5, 6, 7, 102],
    ]);
    expect(Array.from(rows[1].tokenIndex)).toEqual([-1, 3, 4, 5, 6, -1]);
  });
  it('gives an empty token list one [CLS] [SEP] row', () => {
    expect(textRows([], 6, 1, sp).map((r) => Array.from(r.ids))).toEqual([[101, 102]]);
  });
});

describe('questionRows', () => {
  it('truncates the question and windows only the context', () => {
    const rows = questionRows([7, 8, 9], [1, 2, 3, 4, 5], 8, 1, 2, sp);
    // size = 8 - 3 - 2 = 3 context tokens per window
    expect(rows.map((r) => Array.from(r.ids))).toEqual([
      [101, 7, 8, 102, 1, 2, 3, 102],
      [101, 7, 8, 102, 3, 4, 5, 102],
    ]);
    expect(Array.from(rows[0].typeIds)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(rows[1].tokenIndex)).toEqual([-1, -1, -1, -1, 2, 3, 4, -1]);
  });
});

describe('bestWindowPerToken', () => {
  it('takes each token from the window where it is farthest from an edge, earlier on ties', () => {
    const rows = textRows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 6, 2, sp); // windows [0,4) [2,6) [4,8) [6,10)
    const choice = bestWindowPerToken(rows, 10);
    const rowOf = (t: number): number => choice[2 * t];
    // token 2: distance 1 in window 0 ([0..3]: min(2,1)=1), 0 in window 1 → window 0
    expect(rowOf(2)).toBe(0);
    // token 3: window 0 distance 0, window 1 distance 1 → window 1
    expect(rowOf(3)).toBe(1);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(rowOf)).toEqual([0, 0, 0, 1, 1, 2, 2, 3, 3, 3]);
    // position points back at the token
    for (let t = 0; t < 10; t++) expect(rows[choice[2 * t]].tokenIndex[choice[2 * t + 1]]).toBe(t);
  });
});
