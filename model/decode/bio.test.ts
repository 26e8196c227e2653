import { decodeBio, LabelledWord } from './bio';

/** Words one character apart: word i spans [2i, 2i+1). */
function words(labels: string[], scores?: number[]): LabelledWord[] {
  return labels.map((label, i) => ({ label, score: scores?.[i] ?? 1, start: 2 * i, end: 2 * i + 1 }));
}

describe('decodeBio', () => {
  it('groups B-X I-X into one entity with the mean score', () => {
    expect(decodeBio(words(['B-PER', 'I-PER', 'O'], [0.9, 0.7, 1]))).toEqual([{ label: 'PER', start: 0, end: 3, score: 0.8 }]);
  });
  it('B-X after an open X starts a new entity', () => {
    expect(decodeBio(words(['B-PER', 'B-PER']))).toEqual([
      { label: 'PER', start: 0, end: 1, score: 1 },
      { label: 'PER', start: 2, end: 3, score: 1 },
    ]);
  });
  it('I-X after O starts a new entity (conlleval)', () => {
    expect(decodeBio(words(['O', 'I-LOC', 'I-LOC']))).toEqual([{ label: 'LOC', start: 2, end: 5, score: 1 }]);
  });
  it('I-X after a different type starts a new entity of type X', () => {
    expect(decodeBio(words(['B-ORG', 'I-PER']))).toEqual([
      { label: 'ORG', start: 0, end: 1, score: 1 },
      { label: 'PER', start: 2, end: 3, score: 1 },
    ]);
  });
  it('O closes; an entity at the end of the text is closed', () => {
    expect(decodeBio(words(['B-MISC', 'O', 'B-LOC']))).toEqual([
      { label: 'MISC', start: 0, end: 1, score: 1 },
      { label: 'LOC', start: 4, end: 5, score: 1 },
    ]);
  });
  it('reads an unprefixed label as I-', () => {
    expect(decodeBio(words(['PER', 'PER', 'O']))).toEqual([{ label: 'PER', start: 0, end: 3, score: 1 }]);
  });
  it('returns nothing for no words or all O', () => {
    expect(decodeBio([])).toEqual([]);
    expect(decodeBio(words(['O', 'O']))).toEqual([]);
  });
});
