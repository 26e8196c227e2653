/**
 * Readers of the artifact's own evaluation sets (the dev splits production's manifest was scored
 * on), for a candidate whose head changed: the same files and the same label conventions as the
 * Python readers in training/trident_training/data.py, so the split names and numbers are comparable
 * and the registry's gate can compare them. Pure (file text in, examples out).
 */
import type { Span } from '../evaluation/metrics';

/** SST-2 dev.tsv (`sentence<TAB>label`, header line): label 1 → positive, 0 → negative. */
export function readSst2(tsv: string): Array<{ text: string; label: 'positive' | 'negative' }> {
  return tsv
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const cut = l.lastIndexOf('\t');
      return { text: l.slice(0, cut).trim(), label: l.slice(cut + 1).trim() === '1' ? 'positive' : 'negative' };
    });
}

/**
 * CoNLL-2003 (`word POS chunk NER` per line, blank line between sentences, -DOCSTART- lines
 * dropped): each sentence's words joined by single spaces, and its entities as character spans.
 * The tags are IOB1 (B- only between two adjacent entities of one type), read as
 * training/trident_training/data.py iob1_to_bio does: an entity starts at B- or at a type change.
 */
export function readConll(text: string): Array<{ text: string; entities: Span[] }> {
  const sentences: Array<{ text: string; entities: Span[] }> = [];
  let words: string[] = [];
  let tags: string[] = [];
  const flush = (): void => {
    if (words.length > 0) sentences.push(sentenceOf(words, tags));
    words = [];
    tags = [];
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') {
      flush();
      continue;
    }
    const cols = line.split(' ');
    if (cols[0] === '-DOCSTART-') {
      flush();
      continue;
    }
    words.push(cols[0]);
    tags.push(cols[cols.length - 1]);
  }
  flush();
  return sentences;
}

function sentenceOf(words: readonly string[], tags: readonly string[]): { text: string; entities: Span[] } {
  const entities: Span[] = [];
  let text = '';
  let open: Span | null = null;
  words.forEach((word, i) => {
    if (i > 0) text += ' ';
    const start = text.length;
    text += word;
    const tag = tags[i];
    const type = tag === 'O' ? null : tag.slice(2);
    if (type !== null && open !== null && open.label === type && !tag.startsWith('B-')) {
      open.end = text.length;
      return;
    }
    if (open) entities.push(open);
    open = type === null ? null : { label: type, start, end: text.length };
  });
  if (open) entities.push(open);
  return { text, entities };
}
