import * as path from 'node:path';
import { Tokenizer } from 'tokenizers';
import { ADVERSARIAL_TEXTS, TEST_ARTIFACT } from './testing';
import { caseIdsOf, TextTokenizer } from './tokenize';

const file = path.join(TEST_ARTIFACT, 'tokenizer.json');
const tokenizer = TextTokenizer.fromFile(file);
const raw = Tokenizer.fromFile(file);

/** What BERT's normaliser does to a slice: NFD, drop combining marks, lower-case. */
function normalise(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '')
    .toLowerCase();
}

describe('TextTokenizer', () => {
  it('finds the special tokens', () => {
    expect(tokenizer.specials).toEqual({ cls: 101, sep: 102, pad: 0 });
  });

  it('adds no specials and no padding', async () => {
    const t = await tokenizer.tokenize('hello world');
    expect(t.ids.length).toBe(2);
  });

  it('does not truncate long texts', async () => {
    const t = await tokenizer.tokenize('word '.repeat(1000));
    expect(t.ids.length).toBe(1000);
  });

  it('reports UTF-16 offsets: an emoji is two code units', async () => {
    const text = 'a😀 b';
    const t = await tokenizer.tokenize(text);
    const last = t.ids.length - 1;
    expect(text.slice(t.offsets[2 * last], t.offsets[2 * last + 1])).toBe('b');
  });

  it.each(ADVERSARIAL_TEXTS)('offsets slice exactly what each token reads: %s', async (text) => {
    const t = await tokenizer.tokenize(text);
    expect(t.ids.length).toBeGreaterThan(0);
    let compared = 0;
    for (let i = 0; i < t.ids.length; i++) {
      const [s, e] = [t.offsets[2 * i], t.offsets[2 * i + 1]];
      expect(0 <= s && s < e && e <= text.length).toBe(true);
      const piece = raw.idToToken(t.ids[i])!;
      if (piece === '[UNK]') continue;
      // Exact for every piece the normaliser maps one-to-one; the slice of a word-piece is its text.
      const slice = normalise(text.slice(s, e));
      if (slice.length === piece.replace(/^##/, '').length) {
        expect(slice).toBe(piece.replace(/^##/, ''));
        compared++;
      }
      // Never splits a surrogate pair.
      expect(/^[\udc00-\udfff]/.test(text.slice(s, e))).toBe(false);
      expect(/[\ud800-\udbff]$/.test(text.slice(s, e))).toBe(false);
    }
    expect(compared).toBeGreaterThan(t.ids.length / 3);
  });

  it('gives each token the word it belongs to, words in order', async () => {
    const t = await tokenizer.tokenize('unbelievably good');
    expect(Array.from(t.wordIds)).toEqual([...Array(t.ids.length - 1).fill(0), 1]);
  });

  it('computes casing classes from the original characters', async () => {
    const t = await tokenizer.tokenize('Hello NASA iPhone I 42');
    // hello nasa iphone i 42
    expect(Array.from(caseIdsOf(t))).toEqual([2, 3, 4, 2, 0]);
  });

  it('names the file when it cannot load it', () => {
    expect(() => TextTokenizer.fromFile('/nonexistent/tokenizer.json')).toThrow(/\/nonexistent\/tokenizer.json/);
  });
});
