import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { newestArtifact, resolveModelDir } from './artifacts';

describe('model artifacts', () => {
  it('resolves --model, then $TRIDENT_MODEL_DIR', () => {
    expect(resolveModelDir('x')).toBe(path.resolve('x'));
    process.env.TRIDENT_MODEL_DIR = '/tmp/m';
    try {
      expect(resolveModelDir()).toBe('/tmp/m');
    } finally {
      delete process.env.TRIDENT_MODEL_DIR;
    }
  });

  it("picks the artifact whose manifest was created last, whatever the folders' mtimes", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'trident-artifacts-'));
    const write = (name: string, created: string) => {
      mkdirSync(path.join(root, name));
      writeFileSync(path.join(root, name, 'manifest.json'), JSON.stringify({ name, created }));
    };
    write('m-1.1.0', '2026-12-02T09:00:00Z');
    write('m-1.0.0', '2026-11-23T19:48:24Z'); // made after 1.1.0 on disk, as a checkout may
    mkdirSync(path.join(root, 'not-an-artifact'));
    expect(newestArtifact(root)).toBe(path.join(root, 'm-1.1.0'));
    expect(newestArtifact(path.join(root, 'not-an-artifact'))).toBeNull();
    rmSync(root, { recursive: true, force: true });
  });
});
