import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ModelArtifactError } from '../common/errors';
import { loadManifest, parseManifest } from './manifest';
import { TEST_ARTIFACT } from './testing';

const good = (): Record<string, any> => JSON.parse(readFileSync(path.join(TEST_ARTIFACT, 'manifest.json'), 'utf8')) as Record<string, any>;

describe('manifest', () => {
  it('accepts the test artifact', () => {
    expect(loadManifest(TEST_ARTIFACT).manifest.heads.entities.task).toBe('entities');
  });
  it('accepts each window aggregation on sequence heads', () => {
    for (const how of ['mean-probabilities', 'mean-logits', 'length-weighted']) {
      const m = good();
      m.heads.sentiment.window_aggregation = how;
      m.heads.banking77.window_aggregation = how;
      const heads = parseManifest(m, 'manifest.json').heads;
      expect(heads.sentiment.task === 'sentiment' && heads.sentiment.window_aggregation).toBe(how);
    }
  });
  it.each([
    ['a bad digest', (m: Record<string, any>) => (m.encoder.sha256 = 'abc'), /encoder\.sha256/],
    ['a path outside the folder', (m: Record<string, any>) => (m.tokenizer.file = '../x.json'), /tokenizer\.file/],
    ['stride too large', (m: Record<string, any>) => (m.stride = 30), /stride/],
    ['an unknown activation', (m: Record<string, any>) => (m.heads.sentiment.layers[0].activation = 'swish'), /activation/],
    ['a sentiment head under another key', (m: Record<string, any>) => (m.heads.mood = m.heads.sentiment), /heads\.mood/],
    [
      'an unknown window aggregation',
      (m: Record<string, any>) => (m.heads.banking77.window_aggregation = 'max'),
      /heads\.banking77\.window_aggregation/,
    ],
    ['a question budget leaving no room', (m: Record<string, any>) => (m.heads.answers.max_question_tokens = 25), /max_question_tokens/],
  ])('rejects %s, naming the field', (_, edit, pattern) => {
    const m = good();
    edit(m);
    expect(() => parseManifest(m, 'manifest.json')).toThrow(ModelArtifactError);
    expect(() => parseManifest(m, 'manifest.json')).toThrow(pattern);
  });
});
