import { join } from 'node:path';
import { loadManifest } from '../../model/manifest';
import { TextTokenizer } from '../../model/tokenize';
import type { FeedbackEvent } from '../../schemas/generated/feedback';
import { checkFeedback, exampleKey, feedbackModelOf } from './validate-feedback';

const artifact = join(__dirname, '..', '..', 'model', 'test-artifact');
const { manifest } = loadManifest(artifact);
const model = feedbackModelOf(manifest);
const tokenizer = TextTokenizer.fromFile(join(artifact, manifest.tokenizer.file));

const text = 'Maria Silva moved to Lisboa yesterday.';
const event = (change: Partial<FeedbackEvent>): FeedbackEvent => ({
  id: 'e1',
  text,
  task: 'sentiment',
  head: null,
  label: 'positive',
  entities: [],
  answer: null,
  source: 'test',
  modelVersion: null,
  createdAt: 1_700_000_000_000,
  ...change,
});

describe('feedbackModelOf', () => {
  it('reads the fixed heads’ labels and the categories heads', () => {
    expect(model.sentiment).toEqual(['negative', 'positive']);
    expect(model.entityTypes).toEqual(['PER', 'ORG', 'LOC', 'MISC']);
    expect(model.answers).toBe(true);
    expect(Object.keys(model.categories)).toEqual(['banking77']);
  });
});

describe('checkFeedback', () => {
  let offsets: Int32Array;
  beforeAll(async () => {
    offsets = (await tokenizer.tokenize(text)).offsets;
  });

  const bad: Array<[string, Partial<FeedbackEvent>]> = [
    ['ID_EMPTY', { id: ' ' }],
    ['TEXT_EMPTY', { text: '' }],
    ['TEXT_WHITESPACE', { text: '   ' }],
    ['TASK_UNKNOWN', { task: 'summary' }],
    ['LABEL_MISSING', { label: null }],
    ['LABEL_UNKNOWN', { label: 'neutral' }],
    ['HEAD_UNKNOWN', { head: 'mood' }],
    ['HEAD_MISSING', { task: 'categories', head: null, label: 'x' }],
    ['HEAD_UNKNOWN', { task: 'categories', head: 'sentiment', label: 'x' }],
    ['LABEL_MISSING', { task: 'categories', head: 'support', label: ' ' }],
    ['ENTITY_SPAN_OUT_OF_RANGE', { task: 'entities', entities: [{ label: 'PER', start: 30, end: 99 }] }],
    ['ENTITY_SPAN_OUT_OF_RANGE', { task: 'entities', entities: [{ label: 'PER', start: 5, end: 5 }] }],
    ['LABEL_UNKNOWN', { task: 'entities', entities: [{ label: 'PERSON', start: 0, end: 5 }] }],
    [
      'ENTITY_SPAN_OVERLAP',
      {
        task: 'entities',
        entities: [
          { label: 'PER', start: 0, end: 11 },
          { label: 'LOC', start: 6, end: 11 },
        ],
      },
    ],
    ['ENTITY_SPAN_NOT_ON_TOKEN_BOUNDARY', { task: 'entities', entities: [{ label: 'PER', start: 1, end: 5 }] }],
    ['ENTITY_SPAN_NOT_ON_TOKEN_BOUNDARY', { task: 'entities', entities: [{ label: 'PER', start: 0, end: 3 }] }],
    ['LABEL_MISSING', { task: 'answers', answer: null }],
    ['QUESTION_EMPTY', { task: 'answers', answer: { question: '  ', start: 0, end: 5 } }],
    ['ANSWER_SPAN_OUT_OF_RANGE', { task: 'answers', answer: { question: 'Who?', start: 20, end: 200 } }],
    ['ANSWER_SPAN_OUT_OF_RANGE', { task: 'answers', answer: { question: 'Who?', start: -1, end: 5 } }],
    ['ANSWER_SPAN_EMPTY', { task: 'answers', answer: { question: 'Who?', start: 5, end: 5 } }],
    ['ANSWER_SPAN_EMPTY', { task: 'answers', answer: { question: 'Who?', start: 5, end: 6 } }],
  ];
  it.each(bad)('%s: %j', (code, change) => {
    expect(checkFeedback(event(change), model, offsets)).toMatchObject({ ok: false, code });
  });

  it('accepts a known sentiment label, keyed by task, head and text', () => {
    const result = checkFeedback(event({}), model, null);
    expect(result).toEqual({
      ok: true,
      example: expect.objectContaining({ head: 'sentiment', label: 'positive', key: exampleKey('sentiment', 'sentiment', text) }),
    });
  });

  it('grows a categories head with a new label and creates a new categories head', () => {
    expect(checkFeedback(event({ task: 'categories', head: 'banking77', label: 'brand_new_intent' }), model, null)).toMatchObject({
      ok: true,
      example: { head: 'banking77', label: 'brand_new_intent' },
    });
    expect(checkFeedback(event({ task: 'categories', head: 'support', label: 'refund' }), model, null)).toMatchObject({
      ok: true,
      example: { head: 'support', label: 'refund', task: 'categories' },
    });
  });

  it('accepts entity spans on token boundaries (sorted) and a text with no entities', () => {
    const result = checkFeedback(
      event({
        task: 'entities',
        entities: [
          { label: 'LOC', start: 21, end: 27 },
          { label: 'PER', start: 0, end: 11 },
        ],
      }),
      model,
      offsets,
    );
    expect(result).toMatchObject({
      ok: true,
      example: {
        entities: [
          { label: 'PER', start: 0, end: 11 },
          { label: 'LOC', start: 21, end: 27 },
        ],
      },
    });
    expect(checkFeedback(event({ task: 'entities', entities: [] }), model, offsets)).toMatchObject({ ok: true });
  });

  it('keys answers by their question too', () => {
    const a = checkFeedback(event({ task: 'answers', answer: { question: 'Who moved?', start: 0, end: 11 } }), model, null);
    const b = checkFeedback(event({ task: 'answers', answer: { question: 'Where to?', start: 21, end: 27 } }), model, null);
    expect(a.ok && b.ok && a.example.key !== b.example.key).toBe(true);
  });

  it('refuses a task whose head the production model lacks', () => {
    const noSentiment = { ...model, sentiment: null };
    expect(checkFeedback(event({}), noSentiment, null)).toMatchObject({ ok: false, code: 'HEAD_UNKNOWN' });
  });
});
