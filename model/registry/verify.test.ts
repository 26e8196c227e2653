import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sha256File } from '../manifest';
import { FileArtifactStore, storeFromConfig } from './store';
import { loadVerifiedPipeline, verifyFiles } from './verify';

const testArtifact = path.join(__dirname, '..', 'test-artifact');

function copy(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'trident-verify-')), 'artifact');
  cpSync(testArtifact, dir, { recursive: true });
  return dir;
}

const editJson = (file: string, edit: (json: any) => void) => {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json));
};

describe('verifyFiles', () => {
  it('accepts the test artifact, and checks manifest.json against an expected digest', () => {
    expect(() => verifyFiles(testArtifact)).not.toThrow();
    expect(() => verifyFiles(testArtifact, sha256File(path.join(testArtifact, 'manifest.json')))).not.toThrow();
    expect(() => verifyFiles(testArtifact, '0'.repeat(64))).toThrow(
      /manifest\.json: sha256 [0-9a-f]{64} does not match the registry's artifactDigest 0{64}/,
    );
  });

  it('names the file whose digest does not match', () => {
    const dir = copy();
    const bytes = readFileSync(path.join(dir, 'encoder.onnx'));
    bytes[10] ^= 1;
    writeFileSync(path.join(dir, 'encoder.onnx'), bytes);
    expect(() => verifyFiles(dir)).toThrow(
      expect.objectContaining({
        check: 'digest',
        message: expect.stringMatching(/encoder\.onnx: sha256 [0-9a-f]{64} does not match manifest\.json/),
      }),
    );
  });

  it('names a missing head file', () => {
    const dir = copy();
    rmSync(path.join(dir, 'heads', 'entities.safetensors'));
    expect(() => verifyFiles(dir)).toThrow(/heads\/entities\.safetensors: cannot read file named by manifest\.json/);
  });

  it('refuses a manifest from a newer format by name', () => {
    const dir = copy();
    editJson(path.join(dir, 'manifest.json'), (m) => (m.format = 'trident-model/2'));
    expect(() => verifyFiles(dir)).toThrow(/manifest format trident-model\/2 is newer than this runtime reads \(trident-model\/1\)/);
  });
});

describe('loadVerifiedPipeline', () => {
  it('loads and warms up a good artifact', async () => {
    const pipeline = await loadVerifiedPipeline(testArtifact, { threads: 1 });
    expect(pipeline.manifest.version).toBe('0.0.1');
    await pipeline.close();
  });

  it('refuses an artifact whose outputs differ from its parity fixture, naming the input and the output', async () => {
    const dir = copy();
    editJson(path.join(dir, 'parity.json'), (p) => {
      // A fixture that says the other label won, with its scores: the runtime disagrees on both.
      const { sentiment } = p.expected.int8[0];
      const { positive, negative } = sentiment.scores;
      sentiment.scores = { positive: negative, negative: positive };
      sentiment.label = sentiment.label === 'positive' ? 'negative' : 'positive';
    });
    await expect(loadVerifiedPipeline(dir, { threads: 1 })).rejects.toMatchObject({
      check: 'parity',
      message: expect.stringMatching(/parity input p1: p1\.sentiment\.\S+ is \S+, expected \S+ \(and \d+ more differences\)/),
    });
  });
});

describe('FileArtifactStore', () => {
  it('stages a copy, commits it under its digest, and fetches it by digest', async () => {
    const store = new FileArtifactStore(mkdtempSync(path.join(tmpdir(), 'trident-store-')));
    const staged = await store.stage(testArtifact);
    expect(await store.fetch(staged.digest)).toBeNull();
    const location = await staged.commit();
    expect(location).toBe(path.join(store.root, 'sha256', staged.digest));
    expect(await store.fetch(staged.digest)).toBe(location);
    expect(() => verifyFiles(location, staged.digest)).not.toThrow();
  });

  it('a store that is not writable is a one-line error naming it', async () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: use a path below a file instead
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'trident-store-')), 'file');
      writeFileSync(file, '');
      await expect(new FileArtifactStore(path.join(file, 'store')).stage(testArtifact)).rejects.toMatchObject({
        code: 'MODEL_STORE_NOT_WRITABLE',
        message: expect.stringContaining(`model store ${path.join(file, 'store')} is not writable`),
      });
      return;
    }
    const root = mkdtempSync(path.join(tmpdir(), 'trident-store-'));
    chmodSync(root, 0o500);
    await expect(new FileArtifactStore(root).stage(testArtifact)).rejects.toMatchObject({ code: 'MODEL_STORE_NOT_WRITABLE' });
  });

  it('models.store takes a path or a file:// URL, and names what it cannot use', () => {
    expect((storeFromConfig('file:///tmp/x') as FileArtifactStore).root).toBe('/tmp/x');
    expect((storeFromConfig('/tmp/y') as FileArtifactStore).root).toBe('/tmp/y');
    expect(() => storeFromConfig('s3://bucket/models')).toThrow(
      /config models.store: s3:\/\/bucket\/models: only folder paths and file:\/\/ URLs/,
    );
  });
});
