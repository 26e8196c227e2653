import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadVerifiedPipeline } from '../registry/verify';
import { Pipeline } from '../pipeline';
import { TEST_ARTIFACT } from '../testing';
import { buildCandidate, specFor } from './candidate';
import { loadManifest } from '../manifest';
import type { Head } from '../heads';
import type { DatasetSnapshot, Example, LearnProgress } from './types';

const TEMPLATES: Record<string, string[]> = {
  greeting: ['hello there my friend', 'good morning to you', 'hi how are you doing', 'hey nice to meet you'],
  goodbye: ['goodbye and see you later', 'bye for now take care', 'farewell until next time', 'see you tomorrow night'],
  refund: ['I want my money back now', 'please refund my payment', 'return the charge to my card', 'the refund never arrived'],
};
const NAMES = ['Anna', 'Bob', 'Chen', 'Dana', 'Eve'];

function examples(): Example[] {
  const out: Example[] = [];
  let offset = 0;
  for (const [label, texts] of Object.entries(TEMPLATES)) {
    texts.forEach((t, i) =>
      NAMES.forEach((name, j) => {
        const text = `${t}, ${name}`;
        out.push({
          key: `${label}-${i}-${j}`,
          id: `e${offset}`,
          text,
          task: 'categories',
          head: 'intents',
          label,
          source: 'test',
          createdAt: 0,
          position: { topic: 'trident.feedback', partition: 0, offset: String(offset++) },
          split: j === 4 ? 'heldout' : 'train',
        });
      }),
    );
  }
  return out;
}

const SNAPSHOT: DatasetSnapshot = {
  id: '0123456789abcdef',
  topic: 'trident.feedback',
  offsets: { '0': '60' },
  digest: 'd'.repeat(64),
  heads: { intents: { task: 'categories', train: 48, heldout: 12, labels: { greeting: 20, goodbye: 20, refund: 20 } } },
};

describe('buildCandidate', () => {
  let work: string;
  let parentDir: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'trident-cand-'));
    // The test encoder is random: its CLS vectors are nearly the same for every text (they differ by
    // ~0.01), so no head can learn from them. A copy whose categories head pools the mean instead
    // (files unchanged) makes the new head, which copies that architecture, learnable.
    parentDir = path.join(work, 'parent');
    cpSync(TEST_ARTIFACT, parentDir, { recursive: true });
    const file = path.join(parentDir, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    m.heads.banking77.pooling = 'mean';
    writeFileSync(file, JSON.stringify(m));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes a verifiable candidate with a new categories head that predicts its labels', async () => {
    const outDir = path.join(work, 'candidate');
    const events: LearnProgress[] = [];
    const data = examples();
    const build = await buildCandidate({
      parentDir,
      examples: [...data, { ...data[0], key: 'few', head: 'tiny', label: 'x' }],
      snapshot: SNAPSHOT,
      outDir,
      version: '0.0.1-ft.1',
      minExamplesPerLabel: 8,
      featureCache: { dir: path.join(work, 'cache'), maxBytes: 1e7 },
      maxEpochs: 100,
      learningRate: 0.01,
      patience: 20,
      seed: 3,
      onProgress: (e) => events.push(e),
    });
    expect(build.dir).toBe(outDir);
    const intents = build.heads.find((h) => h.head === 'intents')!;
    expect(intents.status).toBe('new');
    expect(intents.labels).toEqual(['goodbye', 'greeting', 'refund']);
    expect(intents.heldout!.production).toBeNull();
    expect(intents.heldout!.candidate.examples).toBe(12);
    const tiny = build.heads.find((h) => h.head === 'tiny')!;
    expect(tiny.status).toBe('skipped');
    expect(tiny.reason).toMatch(/too few/);
    expect(events.some((e) => e.kind === 'epoch')).toBe(true);
    expect(events.some((e) => e.kind === 'features')).toBe(true);

    const manifest = JSON.parse(readFileSync(path.join(outDir, 'manifest.json'), 'utf8'));
    const parent = JSON.parse(readFileSync(path.join(parentDir, 'manifest.json'), 'utf8'));
    expect(manifest.version).toBe('0.0.1-ft.1');
    expect(manifest.training.kind).toBe('heads');
    expect(manifest.training.parent).toMatchObject({ name: 'trident-test', version: '0.0.1' });
    expect(manifest.training.dataset).toEqual(SNAPSHOT);
    expect(manifest.metrics.int8['feedback/intents/heldout'].accuracy).toBe(intents.heldout!.candidate.accuracy);
    expect(manifest.encoder.sha256).toBe(parent.encoder.sha256);
    for (const name of ['sentiment', 'entities', 'answers', 'banking77']) {
      expect(manifest.heads[name]).toEqual(parent.heads[name]);
      // byte-identical head files
      expect(readFileSync(path.join(outDir, manifest.heads[name].file))).toEqual(
        readFileSync(path.join(TEST_ARTIFACT, parent.heads[name].file)),
      );
    }

    const verified = await loadVerifiedPipeline(outDir);
    await verified.close();
    const pipeline = await Pipeline.load(outDir);
    try {
      const train = data.filter((e) => e.split === 'train');
      const outputs = await pipeline.run(
        train.map((e) => ({ id: e.id, text: e.text })),
        ['categories'],
      );
      const correct = outputs.filter((o, i) => o.categories!.intents[0].label === train[i].label).length;
      // Random tiny encoder: the head must still fit its own training texts.
      expect(correct / train.length).toBeGreaterThanOrEqual(0.8);
    } finally {
      await pipeline.close();
    }
  }, 120_000);
});

describe('specFor', () => {
  it("keeps production's head settings with the new labels but not its temperature (fitted to the old weights)", () => {
    const { manifest } = loadManifest(TEST_ARTIFACT);
    const production = { name: 'sentiment', spec: { ...manifest.heads.sentiment, temperature: 1.7 }, layers: [] } as Head;
    const spec = specFor('sentiment', 'sentiment', ['negative', 'neutral', 'positive'], production, manifest);
    expect(spec).toEqual({ ...manifest.heads.sentiment, labels: ['negative', 'neutral', 'positive'] });
    expect('temperature' in spec).toBe(false);
  });
});
