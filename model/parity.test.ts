import { compareOutputs } from './parity';

const base = {
  id: 'x',
  sentiment: { label: 'positive', scores: { negative: 0.2, positive: 0.8 } },
  entities: [{ label: 'PER', text: 'Ann', start: 0, end: 3, score: 0.9 }],
  answers: [{ question: 'q', answer: null, start: null, end: null, score: 0.01 }],
};

describe('compareOutputs', () => {
  it('accepts probabilities within the tolerance', () => {
    const actual = structuredClone(base);
    actual.sentiment.scores.positive += 0.0009;
    expect(compareOutputs(base, actual)).toEqual([]);
  });
  it('reports labels, offsets, nulls, lengths and missing tasks exactly', () => {
    const actual = structuredClone(base) as Record<string, any> as typeof base;
    actual.sentiment.label = 'negative';
    actual.entities[0].end = 4;
    (actual.answers[0] as { answer: string | null }).answer = 'x';
    delete (actual.sentiment.scores as Partial<typeof base.sentiment.scores>).negative;
    const paths = compareOutputs(base, actual).map((d) => d.path);
    expect(paths).toEqual(['x.sentiment.label', 'x.sentiment.scores.negative', 'x.entities[0].end', 'x.answers[0].answer']);
    expect(compareOutputs(base, { ...base, entities: [] }).map((d) => d.path)).toEqual(['x.entities.length']);
  });
  it('reports a probability off by more than the tolerance', () => {
    const actual = structuredClone(base);
    actual.entities[0].score = 0.902;
    expect(compareOutputs(base, actual)).toHaveLength(1);
  });
});
