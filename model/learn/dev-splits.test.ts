import { readConll, readSst2 } from './dev-splits';

describe('dev split readers', () => {
  it('reads SST-2 dev lines as positive/negative', () => {
    expect(readSst2('sentence\tlabel\nit is great \t1\ndull , dull\t0\n')).toEqual([
      { text: 'it is great', label: 'positive' },
      { text: 'dull , dull', label: 'negative' },
    ]);
  });

  it('reads CoNLL IOB1 sentences as text and character spans (B- splits adjacent entities, a type change starts one)', () => {
    const file = [
      '-DOCSTART- -X- O O',
      '',
      'EU NNP I-NP I-ORG',
      'rejects VBZ I-VP O',
      'German JJ I-NP I-MISC',
      'call NN I-NP O',
      '',
      'Peter NNP I-NP I-PER',
      'Blackburn NNP I-NP I-PER',
      'Paris NNP I-NP B-PER',
      'London NNP I-NP I-LOC',
      '',
    ].join('\n');
    expect(readConll(file)).toEqual([
      {
        text: 'EU rejects German call',
        entities: [
          { label: 'ORG', start: 0, end: 2 },
          { label: 'MISC', start: 11, end: 17 },
        ],
      },
      {
        text: 'Peter Blackburn Paris London',
        entities: [
          { label: 'PER', start: 0, end: 15 },
          { label: 'PER', start: 16, end: 21 },
          { label: 'LOC', start: 22, end: 28 },
        ],
      },
    ]);
  });
});
