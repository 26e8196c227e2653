/**
 * Windowing of token sequences, with Hugging Face's `return_overflowing_tokens` + `stride`
 * semantics (tokenizers' `Encoding::truncate`): windows of at most `size` content tokens start at
 * 0, size − stride, 2·(size − stride), … and the first window that reaches the end is the last.
 */

/** `[start, end)` ranges over `n` content tokens. Pure; throws RangeError when stride ≥ size. */
export function windowRanges(n: number, size: number, stride: number): Array<[number, number]> {
  if (size <= 0 || stride < 0 || stride >= size) {
    throw new RangeError(`window size ${size} must exceed stride ${stride}`);
  }
  if (n <= size) return [[0, n]];
  const ranges: Array<[number, number]> = [];
  for (let start = 0; ; start += size - stride) {
    const end = Math.min(start + size, n);
    ranges.push([start, end]);
    if (end === n) return ranges;
  }
}

/** Special token ids the windows are framed with. */
export interface SpecialIds {
  cls: number;
  sep: number;
  pad: number;
}

/** One encoder row: token ids and, per position, which content token of the text it holds. */
export interface EncoderRow {
  ids: Int32Array;
  typeIds: Int32Array;
  /** Per position: index into the text's content tokens, or -1 ([CLS], [SEP], question tokens). */
  tokenIndex: Int32Array;
}

/** `[CLS] tokens[a..b) [SEP]` rows for a single text. Pure. */
export function textRows(ids: ArrayLike<number>, maxLength: number, stride: number, sp: SpecialIds): EncoderRow[] {
  return windowRanges(ids.length, maxLength - 2, stride).map(([a, b]) => {
    const len = b - a + 2;
    const row: EncoderRow = { ids: new Int32Array(len), typeIds: new Int32Array(len), tokenIndex: new Int32Array(len).fill(-1) };
    row.ids[0] = sp.cls;
    for (let t = a; t < b; t++) {
      row.ids[t - a + 1] = ids[t];
      row.tokenIndex[t - a + 1] = t;
    }
    row.ids[len - 1] = sp.sep;
    return row;
  });
}

/**
 * `[CLS] question [SEP] context[a..b) [SEP]` rows; the question (content tokens, no specials) is cut
 * to `maxQuestionTokens`; only the context is windowed. Type ids are 0 up to the first [SEP], then 1
 * (BERT's pair template). Pure; throws RangeError when no context token fits beside the question.
 */
export function questionRows(
  questionIds: ArrayLike<number>,
  contextIds: ArrayLike<number>,
  maxLength: number,
  stride: number,
  maxQuestionTokens: number,
  sp: SpecialIds,
): EncoderRow[] {
  const q = Math.min(questionIds.length, maxQuestionTokens);
  const size = maxLength - 3 - q;
  return windowRanges(contextIds.length, size, stride).map(([a, b]) => {
    const len = q + (b - a) + 3;
    const row: EncoderRow = { ids: new Int32Array(len), typeIds: new Int32Array(len), tokenIndex: new Int32Array(len).fill(-1) };
    row.ids[0] = sp.cls;
    for (let i = 0; i < q; i++) row.ids[1 + i] = questionIds[i];
    row.ids[q + 1] = sp.sep;
    const base = q + 2;
    for (let t = a; t < b; t++) {
      row.ids[base + t - a] = contextIds[t];
      row.tokenIndex[base + t - a] = t;
    }
    row.ids[len - 1] = sp.sep;
    row.typeIds.fill(1, base);
    return row;
  });
}

/**
 * For each content token, which row holds it farthest from either window edge (ties: the earlier
 * row), and at which position. Returns flat `[row, position]` pairs per token. Pure.
 */
export function bestWindowPerToken(rows: readonly EncoderRow[], tokenCount: number): Int32Array {
  const choice = new Int32Array(tokenCount * 2).fill(-1);
  const bestDistance = new Int32Array(tokenCount).fill(-1);
  rows.forEach((row, r) => {
    let first = -1;
    let last = -1;
    for (let p = 0; p < row.tokenIndex.length; p++) {
      if (row.tokenIndex[p] < 0) continue;
      if (first < 0) first = p;
      last = p;
    }
    for (let p = first; p >= 0 && p <= last; p++) {
      const t = row.tokenIndex[p];
      const distance = Math.min(p - first, last - p);
      if (distance > bestDistance[t]) {
        bestDistance[t] = distance;
        choice[2 * t] = r;
        choice[2 * t + 1] = p;
      }
    }
  });
  return choice;
}
