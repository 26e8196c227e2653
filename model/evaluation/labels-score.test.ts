import { parseLabeledLines, parseLabel } from './labels';
import { compareModels, disagreementSize, scoreModel, type EvalEvent, type ModelInfo } from './score';
import { binIndex, compareProfiles, nonLatinShare, ProfileBuilder, psi, verdictOf } from './drift';
import type { PredictOutput } from '../types';

describe('labeled lines', () => {
  it('groups labels by id, keeps questions, lets a later label of a task win', () => {
    const texts = parseLabeledLines(
      [
        '{"id":"a","text":"Ada went to Paris.","task":"sentiment","label":"positive"}',
        '',
        '{"id":"a","task":"answers","answer":{"question":"Where?","start":12,"end":17}}',
        '{"id":"a","task":"answers","answer":{"question":"Where?","text":"to Paris"}}',
        '{"id":"a","task":"sentiment","label":"negative"}',
        '{"id":"b","text":"x","task":"categories","label":"card_arrival"}',
      ],
      'f.jsonl',
    );
    expect(texts.map((t) => t.id)).toEqual(['a', 'b']);
    expect(texts[0].questions).toEqual(['Where?']);
    expect(texts[0].gold.sentiment).toBe('negative');
    expect(texts[0].gold.answers!['Where?']).toHaveLength(2);
    expect(texts[1].gold.categories).toEqual({ '': 'card_arrival' });
  });
  it('names the file and line of a bad label', () => {
    expect(() => parseLabeledLines(['{"id":"a","task":"sentiment","label":"x"}'], 'f.jsonl')).toThrow(
      /f.jsonl:1: the first line of id "a" needs its "text"/,
    );
    expect(() =>
      parseLabeledLines(['{"id":"a","text":"abc","task":"entities","entities":[{"label":"PER","start":0,"end":9}]}'], 'f.jsonl'),
    ).toThrow(/f.jsonl:1: entities\[0\]: end 9 is past the text's 3 characters/);
    expect(() => parseLabeledLines(['{"id":"a","text":"abc","task":"translate"}'], 'f.jsonl')).toThrow(
      /"task" must be one of sentiment, entities, answers, categories/,
    );
    expect(() => parseLabeledLines(['nope'], 'f.jsonl')).toThrow(/f.jsonl:1: not JSON/);
  });
  it('accepts feedback-shaped labels without text (replay)', () => {
    expect(parseLabel({ id: 'x', task: 'categories', head: 'banking77', label: 'card_arrival' }, 'feedback', 1)).toEqual({
      id: 'x',
      task: 'categories',
      head: 'banking77',
      label: 'card_arrival',
    });
  });
});

const info = (key: string): ModelInfo => ({ key, labels: { sentiment: ['negative', 'positive'] }, categoryHeads: ['banking77'] });
const sent = (label: string, p: number): PredictOutput['sentiment'] => ({
  label,
  scores: { [label]: p, [label === 'positive' ? 'negative' : 'positive']: 1 - p },
});

describe('scoring and A/B', () => {
  const events: EvalEvent[] = [
    { id: '1', text: 'good', gold: { sentiment: 'positive' } },
    { id: '2', text: 'bad', gold: { sentiment: 'negative' } },
    { id: '3', text: 'meh', gold: { sentiment: 'negative' } },
    { id: '4', text: 'unlabeled', gold: null },
  ];
  const a = new Map<string, PredictOutput>([
    ['1', { id: '1', sentiment: sent('positive', 0.9) }],
    ['2', { id: '2', sentiment: sent('positive', 0.6) }],
    ['3', { id: '3', sentiment: sent('positive', 0.7) }],
    ['4', { id: '4', sentiment: sent('positive', 0.8) }],
  ]);
  const b = new Map<string, PredictOutput>([
    ['1', { id: '1', sentiment: sent('positive', 0.95) }],
    ['2', { id: '2', sentiment: sent('negative', 0.8) }],
    ['3', { id: '3', sentiment: sent('negative', 0.9) }],
    ['4', { id: '4', sentiment: sent('positive', 0.8) }],
  ]);
  it('scores only labeled events; n counts them', () => {
    const s = scoreModel(events, a, info('A'));
    expect(s.sentiment).toMatchObject({ n: 3, accuracy: 1 / 3 });
  });
  it('compares paired: delta, McNemar, agreement over all events, disagreements largest first', () => {
    const { ab, disagreements } = compareModels(events, [a, b], [info('A'), info('B')]);
    expect(ab.sentiment).toMatchObject({ metric: 'accuracy', n: 3, agreement: 0.5, agreement_n: 4 });
    expect(ab.sentiment.delta).toBeCloseTo(2 / 3, 12);
    expect(ab.sentiment.mcnemar).toMatchObject({ a_only: 0, b_only: 2, method: 'exact', p_value: 0.5 });
    expect(disagreements.map((d) => d.id)).toEqual(['3', '2']); // (0.7+0.9)/2 > (0.6+0.8)/2
    expect(disagreements[0]).toMatchObject({ task: 'sentiment', a: 'positive', b: 'negative', gold: 'negative' });
  });
  it('sizes entity and answer disagreements', () => {
    const x = [{ label: 'PER', start: 0, end: 3 }];
    const y = [
      { label: 'PER', start: 0, end: 3 },
      { label: 'LOC', start: 5, end: 9 },
    ];
    expect(disagreementSize('entities', { value: x, confidence: 1 }, { value: y, confidence: 1 })).toBe(0.5);
    expect(disagreementSize('answers', { value: 'Paris', confidence: 1 }, { value: 'Paris', confidence: 1 })).toBe(0);
    expect(disagreementSize('answers', { value: 'Paris', confidence: 1 }, { value: null, confidence: 1 })).toBe(1);
  });
});

describe('drift', () => {
  it('computes PSI by hand and its verdicts', () => {
    // shares e = (.5, .5), a = (.25, .75): (.25−.5)·ln(.25/.5) + (.75−.5)·ln(.75/.5) = .25·ln2 + .25·ln1.5
    expect(psi([50, 50], [25, 75])).toBeCloseTo(0.25 * Math.log(2) + 0.25 * Math.log(1.5), 12);
    expect(psi([10, 10], [1, 1])).toBe(0);
    expect(verdictOf(0.05)).toBe('stable');
    expect(verdictOf(0.1)).toBe('watch');
    expect(verdictOf(0.25)).toBe('drifted');
  });
  it('bins with inclusive upper edges and counts non-Latin letters', () => {
    expect(binIndex([8, 16], 8)).toBe(0);
    expect(binIndex([8, 16], 9)).toBe(1);
    expect(binIndex([8, 16], 100)).toBe(2);
    expect(nonLatinShare('abc東京')).toBeCloseTo(0.4, 12);
    expect(nonLatinShare('123 !')).toBe(0);
  });
  it('flags a shifted profile as drifted and an identical one as stable', () => {
    const ref = new ProfileBuilder();
    const same = new ProfileBuilder();
    const shifted = new ProfileBuilder();
    for (let i = 0; i < 100; i++) {
      const f = { length_tokens: 10 + (i % 20), unknown_rate: 0, non_latin_share: 0 };
      ref.addText(f);
      same.addText(f);
      shifted.addText({ ...f, non_latin_share: 0.9 });
    }
    expect(compareProfiles(ref.build('ref'), same.build('live')).verdict).toBe('stable');
    const drifted = compareProfiles(ref.build('ref'), shifted.build('live'));
    expect(drifted.verdict).toBe('drifted');
    expect(drifted.features.find((f) => f.feature === 'non_latin_share')!.verdict).toBe('drifted');
    expect(drifted.features.find((f) => f.feature === 'length_tokens')!.psi).toBe(0);
  });
});
