import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TextFeatures } from '../feature-decoder';
import { Pipeline } from '../pipeline';
import { TEST_ARTIFACT } from '../testing';
import { decode, encode, FeatureCache, textKey } from './feature-cache';
import { featurize } from './features';
import type { LearnProgress } from './types';

function features(id: string, floats: number): TextFeatures {
  return {
    id,
    text: 'x',
    hiddenSize: 2,
    offsets: Int32Array.from([0, 1]),
    wordIds: Int32Array.from([0]),
    windows: 1,
    cls: Float32Array.from({ length: floats }, (_, i) => i / 3),
    mean: Float32Array.from({ length: floats }, (_, i) => -i),
    tokens: null,
    questions: [{ question: 'q?', rows: [{ length: 3, hidden: new Float32Array(6).fill(0.5), tokenIndex: Int32Array.from([-1, 0, -1]) }] }],
  };
}

const allFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.feat'))
    .map((f) => path.join(dir, f));

describe('FeatureCache', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'trident-fc-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('encodes and decodes every array exactly', () => {
    const f = features('a', 8);
    const back = decode(encode(f))!;
    expect(back.cls).toEqual(f.cls);
    expect(back.mean).toEqual(f.mean);
    expect(back.tokens).toBeNull();
    expect(back.offsets).toEqual(f.offsets);
    expect(back.questions[0].rows[0].tokenIndex).toEqual(f.questions[0].rows[0].tokenIndex);
    expect(back.questions[0].question).toBe('q?');
  });

  it('misses, then hits; keys differ by encoder and by question', () => {
    const cache = new FeatureCache({ dir, maxBytes: 1e6, encoderSha256: 'e1' });
    const key = textKey('hello');
    expect(cache.get(key)).toBeNull();
    cache.put(key, features('a', 8));
    expect(cache.get(key)!.cls).toEqual(features('a', 8).cls);
    expect(new FeatureCache({ dir, maxBytes: 1e6, encoderSha256: 'e2' }).get(key)).toBeNull();
    expect(textKey('hello', 'q')).not.toBe(key);
  });

  it('ignores and removes a corrupt entry', () => {
    const cache = new FeatureCache({ dir, maxBytes: 1e6, encoderSha256: 'e1' });
    const key = textKey('hello');
    cache.put(key, features('a', 8));
    const [file] = allFiles(dir);
    const bytes = encode(features('a', 8));
    bytes[bytes.length - 3] ^= 0xff; // one flipped byte in the data: digest mismatch
    writeFileSync(file, bytes);
    expect(cache.get(key)).toBeNull();
    expect(allFiles(dir)).toEqual([]);
    writeFileSync(file, 'garbage');
    expect(cache.get(key)).toBeNull();
  });

  it('evicts least recently used entries down to the bound', () => {
    const size = encode(features('a', 100)).length;
    const cache = new FeatureCache({ dir, maxBytes: 3 * size, encoderSha256: 'e1' });
    const keys = ['t0', 't1', 't2', 't3', 't4'].map((t) => textKey(t));
    keys.forEach((key, i) => {
      cache.put(key, features(String(i), 100));
      const file = allFiles(dir).find((f) => f.includes(key))!;
      utimesSync(file, new Date(1000 * (i + 1)), new Date(1000 * (i + 1)));
    });
    cache.get(keys[0]); // used now: the most recent
    expect(cache.evict()).toBeLessThanOrEqual(3 * size);
    expect(allFiles(dir).reduce((n, f) => n + statSync(f).size, 0)).toBeLessThanOrEqual(3 * size);
    expect(cache.get(keys[0])).not.toBeNull();
    expect(cache.get(keys[1])).toBeNull();
    expect(cache.get(keys[2])).toBeNull();
    expect(cache.get(keys[4])).not.toBeNull();
  });
});

describe('featurize', () => {
  let dir: string;
  let pipeline: Pipeline;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trident-fz-'));
    pipeline = await Pipeline.load(TEST_ARTIFACT, { batching: 'per-input' });
  });
  afterAll(async () => {
    await pipeline.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('computes each text once, then serves it from the cache with the same values', async () => {
    const cache = new FeatureCache({ dir, maxBytes: 1e7, encoderSha256: pipeline.manifest.encoder.sha256 });
    const items = [{ text: 'good film' }, { text: 'bad film' }, { text: 'good film' }, { text: 'bad film', question: 'What?' }];
    const events: LearnProgress[] = [];
    const first = await featurize(pipeline, items, { pooled: true, tokens: true }, cache, (e) => events.push(e));
    expect(events.at(-1)).toEqual({ kind: 'features', done: 3, total: 3, cached: 0 });
    const again: LearnProgress[] = [];
    const second = await featurize(pipeline, items, { pooled: true, tokens: false }, cache, (e) => again.push(e));
    expect(again.at(-1)).toEqual({ kind: 'features', done: 3, total: 3, cached: 3 });
    expect(second[0].cls).toEqual(first[0].cls);
    expect(second[1].tokens).toEqual(first[1].tokens);
    expect(second[3].questions[0].rows[0].hidden).toEqual(first[3].questions[0].rows[0].hidden);
    expect(second[0].text).toBe('good film');
  });
});
