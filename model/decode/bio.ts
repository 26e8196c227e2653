/** One word with its decoded label, its probability and its UTF-16 offsets in the original text. */
export interface LabelledWord {
  label: string;
  score: number;
  start: number;
  end: number;
}

/** An entity before its text is attached: offsets are UTF-16 code units into the original text. */
export interface EntitySpan {
  label: string;
  start: number;
  end: number;
  score: number;
}

/** Splits a BIO label into its prefix and entity type. Labels without a `B-`/`I-` prefix (other than `O`) read as `I-`. */
export function parseBioLabel(label: string): { prefix: 'B' | 'I' | 'O'; type: string } {
  if (label === 'O') return { prefix: 'O', type: '' };
  if (label.startsWith('B-')) return { prefix: 'B', type: label.slice(2) };
  if (label.startsWith('I-')) return { prefix: 'I', type: label.slice(2) };
  return { prefix: 'I', type: label };
}

/**
 * Groups word labels into entities (the contract's BIO rules, model/README.md):
 * - `B-X` always starts a new entity of type X;
 * - `I-X` continues an open entity of type X, and otherwise starts a new one (conlleval's rule:
 *   `O I-X`, `B-Y I-X` and `I-Y I-X` all start X at the `I-X` word);
 * - `O` closes the open entity.
 * An entity spans from its first word's start to its last word's end; its score is the mean of its
 * words' scores. Pure; never blocks.
 */
export function decodeBio(words: readonly LabelledWord[]): EntitySpan[] {
  const entities: EntitySpan[] = [];
  let open: { type: string; start: number; end: number; sum: number; count: number } | null = null;
  const close = (): void => {
    if (open) entities.push({ label: open.type, start: open.start, end: open.end, score: open.sum / open.count });
    open = null;
  };
  for (const word of words) {
    const { prefix, type } = parseBioLabel(word.label);
    if (prefix === 'O') {
      close();
    } else if (prefix === 'I' && open !== null && open.type === type) {
      open.end = word.end;
      open.sum += word.score;
      open.count += 1;
    } else {
      close();
      open = { type, start: word.start, end: word.end, sum: word.score, count: 1 };
    }
  }
  close();
  return entities;
}
