import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { parseManifest } from './manifest';
import { Pipeline, defaultBatching, defaultSessions } from './pipeline';
import { TEST_ARTIFACT, testArtifactWithQuantization } from './testing';

const STATIC = { method: 'static-qdq-smoothquant', batch_independent: true };
const DYNAMIC = { method: 'dynamic-per-channel', batch_independent: false };

describe('defaultBatching', () => {
  it('is mixed only when the manifest says the quantisation is batch-independent', () => {
    expect(defaultBatching({ quantization: STATIC })).toBe('mixed');
    expect(defaultBatching({ quantization: DYNAMIC })).toBe('per-input');
    // Artifacts from before the record: dynamic int8.
    expect(defaultBatching({})).toBe('per-input');
  });
});

describe('defaultSessions', () => {
  it('is one single-threaded session per core (at most 4) for per-input batches, one for mixed', () => {
    expect(defaultSessions('per-input', 1)).toBe(1);
    expect(defaultSessions('per-input', 2)).toBe(2);
    expect(defaultSessions('per-input', 64)).toBe(4);
    expect(defaultSessions('mixed', 2)).toBe(1);
    expect(defaultSessions('mixed', 64)).toBe(1);
  });
});

describe('Pipeline batching from the artifact', () => {
  const inputs = [
    'Short one.',
    'A somewhat longer text about Paris and Berlin.',
    'Three',
    'The fourth text, longer still, about Lisbon.',
  ].map((text, i) => ({ id: String(i), text }));
  let staticDir: string;
  beforeAll(() => {
    staticDir = testArtifactWithQuantization(STATIC);
  });
  afterAll(() => rmSync(staticDir, { recursive: true, force: true }));

  it('batches a batch-independent artifact mixed unless told otherwise', async () => {
    const byDefault = await Pipeline.load(staticDir);
    const perInput = await Pipeline.load(staticDir, { batching: 'per-input' });
    try {
      expect(byDefault.batching).toBe('mixed');
      expect(perInput.batching).toBe('per-input');
      // The choice reaches the plan: mixed puts the four texts in one encoder batch, per-input in four.
      expect(await byDefault.plannedFeeds(inputs, ['sentiment'])).toHaveLength(1);
      expect(await perInput.plannedFeeds(inputs, ['sentiment'])).toHaveLength(4);
    } finally {
      await Promise.all([byDefault.close(), perInput.close()]);
    }
  });

  it('keeps per-input for a dynamic artifact (the committed test artifact has no record) unless told mixed', async () => {
    const byDefault = await Pipeline.load(TEST_ARTIFACT);
    const mixed = await Pipeline.load(TEST_ARTIFACT, { batching: 'mixed' });
    try {
      expect(byDefault.manifest.quantization).toBeUndefined();
      expect(byDefault.batching).toBe('per-input');
      expect(mixed.batching).toBe('mixed');
      // Sessions follow the batching unless configured.
      expect(byDefault.sessions).toBe(defaultSessions('per-input'));
      expect(mixed.sessions).toBe(1);
    } finally {
      await Promise.all([byDefault.close(), mixed.close()]);
    }
  });
});

describe('manifest quantization record', () => {
  const base = (): Record<string, unknown> =>
    JSON.parse(readFileSync(path.join(TEST_ARTIFACT, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  it('is optional, and parsed when present', () => {
    expect(parseManifest(base(), 'manifest.json').quantization).toBeUndefined();
    expect(parseManifest({ ...base(), quantization: STATIC }, 'manifest.json').quantization).toEqual(STATIC);
  });
  it('names the field when malformed', () => {
    expect(() => parseManifest({ ...base(), quantization: { method: 'static', batch_independent: 'yes' } }, 'manifest.json')).toThrow(
      /quantization\.batch_independent/,
    );
  });
});
