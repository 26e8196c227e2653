import * as path from 'node:path';
import { TEST_ARTIFACT } from '../testing';
import { TextTokenizer } from '../tokenize';
import { questionRows } from '../windows';
import { answerPosition, bioLabels, isUnaligned, pooledRows } from './align';

const LABELS = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];
const tokenizer = TextTokenizer.fromFile(path.join(TEST_ARTIFACT, 'tokenizer.json'));

describe('pooledRows', () => {
  it('gives one row per text window from the pooling the head uses', () => {
    const f = { windows: 2, hiddenSize: 2, cls: Float32Array.from([1, 2, 3, 4]), mean: Float32Array.from([5, 6, 7, 8]) };
    expect(Array.from(pooledRows(f, 'cls'))).toEqual([1, 2, 3, 4]);
    expect(Array.from(pooledRows(f, 'mean'))).toEqual([5, 6, 7, 8]);
  });
});

describe('bioLabels', () => {
  it('labels the first sub-word of each word and ignores continuations', async () => {
    const text = 'Schwarzenegger visited Wolfsburg today';
    const t = await tokenizer.tokenize(text);
    // The tokenizer splits the long names into sub-words: the test means something only then.
    expect(t.ids.length).toBeGreaterThan(4);
    const y = bioLabels(
      t.offsets,
      t.wordIds,
      [
        { label: 'PER', start: 0, end: 14 },
        { label: 'LOC', start: 23, end: 32 },
      ],
      LABELS,
    );
    if (isUnaligned(y)) throw new Error(y.reason);
    const byWord = new Map<number, number[]>();
    Array.from(t.wordIds).forEach((w, i) => byWord.set(w, [...(byWord.get(w) ?? []), y[i]]));
    expect([...byWord.values()].map((ys) => LABELS[ys[0]])).toEqual(['B-PER', 'O', 'B-LOC', 'O']);
    for (const ys of byWord.values()) expect(ys.slice(1).every((v) => v === -1)).toBe(true);
  });

  it('gives I- to the later words of a multi-word entity and O to a text without entities', async () => {
    const t = await tokenizer.tokenize('Angela Dorothea Merkel spoke');
    const y = bioLabels(t.offsets, t.wordIds, [{ label: 'PER', start: 0, end: 22 }], LABELS) as Int32Array;
    const firsts = Array.from(y)
      .filter((v) => v >= 0)
      .map((v) => LABELS[v]);
    expect(firsts).toEqual(['B-PER', 'I-PER', 'I-PER', 'O']);
    const none = bioLabels(t.offsets, t.wordIds, [], LABELS) as Int32Array;
    expect(
      Array.from(none)
        .filter((v) => v >= 0)
        .every((v) => v === 0),
    ).toBe(true);
  });

  it('refuses a span that cuts a word or an unknown type', async () => {
    const t = await tokenizer.tokenize('Angela Merkel spoke');
    expect(bioLabels(t.offsets, t.wordIds, [{ label: 'PER', start: 0, end: 3 }], LABELS)).toMatchObject({
      reason: expect.stringContaining('cuts'),
    });
    expect(bioLabels(t.offsets, t.wordIds, [{ label: 'DOG', start: 0, end: 6 }], LABELS)).toMatchObject({
      reason: expect.stringContaining('DOG'),
    });
  });
});

describe('answerPosition', () => {
  const sp = tokenizer.specials;
  it('finds the answer tokens in the one row, after the question', async () => {
    const text = 'The plant is in Munich, said Angela Merkel.';
    const t = await tokenizer.tokenize(text);
    const q = await tokenizer.tokenize('Where is the plant?');
    const rows = questionRows(q.ids, t.ids, 64, 8, 16, sp);
    const start = text.indexOf('Angela');
    const pos = answerPosition(t.offsets, rows, start, start + 'Angela Merkel'.length);
    if (isUnaligned(pos)) throw new Error(pos.reason);
    expect(pos.row).toBe(0);
    const row = rows[0];
    expect(t.offsets[2 * row.tokenIndex[pos.start]]).toBe(start);
    expect(t.offsets[2 * row.tokenIndex[pos.end] + 1]).toBe(start + 13);
    expect(pos.start).toBeGreaterThan(q.ids.length + 1); // in the context, after [CLS] question [SEP]
  });

  it('picks the window that holds the whole answer farthest from its edges, or says none does', async () => {
    const text = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const t = await tokenizer.tokenize(text);
    const q = await tokenizer.tokenize('Which word?');
    const rows = questionRows(q.ids, t.ids, 24, 4, 16, sp);
    expect(rows.length).toBeGreaterThan(3);
    const start = text.indexOf('word20');
    const pos = answerPosition(t.offsets, rows, start, start + 6);
    if (isUnaligned(pos)) throw new Error(pos.reason);
    const holding = rows
      .map((r, i) => (Array.from(r.tokenIndex).includes(rows[pos.row].tokenIndex[pos.start]) ? i : -1))
      .filter((i) => i >= 0);
    expect(holding).toContain(pos.row);
    // An answer longer than any window's context fits in none.
    expect(answerPosition(t.offsets, rows, 0, text.length)).toMatchObject({ reason: expect.stringContaining('no context window') });
    expect(answerPosition(t.offsets, rows, 5, 5)).toMatchObject({ reason: expect.stringContaining('empty') });
  });
});
