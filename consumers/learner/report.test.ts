import type { CandidateBuild } from '../../model/learn/types';
import type { ModelRecord } from '../../model/registry/state';
import { datasetLines, headLine, outcomeLines } from './report';

const snapshot = {
  id: '0123456789abcdef',
  topic: 'fb',
  offsets: { '0': '12' },
  digest: 'd',
  heads: { support: { task: 'categories' as const, train: 8, heldout: 4, labels: { refund: 6, cancel: 6 } } },
};

describe('report lines', () => {
  it('ends with the candidate version, after a line per head', () => {
    const build: CandidateBuild = {
      dir: '/tmp/x',
      name: 'trident-multitask',
      version: '1.1.0-ft.1',
      parentVersion: '1.1.0',
      snapshot,
      dev: [{ split: 'sst2/dev@runtime', candidate: { accuracy: 0.9 }, production: { accuracy: 0.89 } }],
      heads: [
        {
          head: 'support',
          task: 'categories',
          status: 'new',
          labels: ['refund', 'cancel'],
          trainExamples: 8,
          heldoutExamples: 4,
          epochs: 12,
          heldout: { candidate: { accuracy: 0.75 }, production: null },
        },
        {
          head: 'sentiment',
          task: 'sentiment',
          status: 'skipped',
          reason: '2 examples of negative (fewer than 8)',
          labels: [],
          trainExamples: 2,
          heldoutExamples: 1,
          epochs: 0,
          heldout: null,
        },
      ],
      backend: 'tensorflow',
      seconds: { features: 1, training: 2, evaluation: 0.5, total: 3.5 },
    };
    const lines = outcomeLines({
      kind: 'registered',
      build,
      record: { name: 'trident-multitask', version: '1.1.0-ft.1' } as ModelRecord,
      promotion: null,
    });
    expect(lines[0]).toBe('head support (categories): new, 2 labels, 8 train / 4 held back, 12 epochs; held back: accuracy=0.7500');
    expect(lines[1]).toBe(
      'head sentiment (sentiment): skipped, 0 labels, 2 train / 1 held back; not trained: 2 examples of negative (fewer than 8)',
    );
    expect(lines[2]).toBe('dev sst2/dev@runtime: accuracy=0.9000 (production: accuracy=0.8900)');
    expect(lines.at(-1)).toBe('1.1.0-ft.1');
  });

  it('ends with "nothing to learn" when there is nothing new', () => {
    expect(outcomeLines({ kind: 'nothing', reason: 'dataset unchanged since 1.1.0-ft.1', snapshot }).at(-1)).toBe('nothing to learn');
  });

  it('summarises the dataset per head', () => {
    expect(datasetLines(snapshot, { count: 3, recent: [] })).toEqual([
      'dataset 0123456789abcdef: 12 examples (8 train, 4 held back) in 1 heads; 3 superseded',
      '  support (categories): 8 train, 4 held back, 2 labels',
    ]);
    expect(
      headLine({
        head: 'x',
        task: 'sentiment',
        status: 'trained',
        labels: ['a'],
        trainExamples: 1,
        heldoutExamples: 1,
        epochs: 2,
        heldout: { candidate: { macro_f1: 1 }, production: { macro_f1: 0.5 } },
      }),
    ).toContain('held back: macro_f1=1 (production: macro_f1=0.5000)');
  });
});
