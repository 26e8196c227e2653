import type { CandidateBuild, HeadOutcome } from '../../model/learn/types';
import { compareWithProduction } from './training';

function build(heads: HeadOutcome[], dev: CandidateBuild['dev']): CandidateBuild {
  return {
    dir: '/tmp/c',
    name: 'm',
    version: '1.0.0-ft.1',
    parentVersion: '1.0.0',
    snapshot: { id: 'x', topic: 't', offsets: {}, digest: 'd', heads: {} },
    heads,
    dev,
    backend: 'tensorflow',
    seconds: { features: 0, training: 0, evaluation: 0, total: 0 },
  };
}

const head = (name: string, candidate: number, production: number | null): HeadOutcome => ({
  head: name,
  task: 'categories',
  status: production === null ? 'new' : 'trained',
  labels: ['a', 'b'],
  trainExamples: 10,
  heldoutExamples: 5,
  epochs: 3,
  heldout: {
    candidate: { accuracy: candidate, examples: 5 },
    production: production === null ? null : { accuracy: production, examples: 5 },
  },
});

describe('compareWithProduction (the learner gate before learn.autoPromote)', () => {
  it('passes a candidate no worse than production on held-back and @runtime dev splits; new heads are not compared', () => {
    const result = compareWithProduction(
      build(
        [head('support', 0.9, null), head('banking77', 0.92, 0.92)],
        [{ split: 'sst2/dev@runtime', candidate: { accuracy: 0.9 }, production: { accuracy: 0.898 } }],
      ),
      0.5,
    );
    expect(result).toMatchObject({ passed: true, compared: 2 });
  });

  it('refuses one worse by more than the tolerance, naming the split', () => {
    const result = compareWithProduction(
      build([head('banking77', 0.92, 0.92)], [{ split: 'conll2003/testa@runtime', candidate: { f1: 0.89 }, production: { f1: 0.906 } }]),
      0.5,
    );
    expect(result.passed).toBe(false);
    expect(result.regressions.map((r) => `${r.split} ${r.metric}`)).toEqual(['conll2003/testa@runtime f1']);
  });
});
