import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSafetensors, writeSafetensors } from './safetensors';
import { TEST_ARTIFACT } from './testing';

describe('writeSafetensors', () => {
  it('round-trips through parseSafetensors with shapes, order and exact float32 values', () => {
    const a = { shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-8, Math.PI, -0, 1e30]) };
    const b = { shape: [3], data: Float32Array.from([0.1, 0.2, 0.3]) };
    const bytes = writeSafetensors([
      ['dense.weight', a],
      ['dense.bias', b],
    ]);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    const parsed = parseSafetensors(bytes, 'mem');
    expect([...parsed.keys()]).toEqual(['dense.weight', 'dense.bias']);
    expect(parsed.get('dense.weight')!.shape).toEqual([2, 3]);
    expect(Array.from(parsed.get('dense.weight')!.data)).toEqual(Array.from(a.data));
    expect(Array.from(parsed.get('dense.bias')!.data)).toEqual(Array.from(b.data));
  });

  it('rewrites a production head file into tensors equal to the original', () => {
    const file = path.join(TEST_ARTIFACT, 'heads', 'banking77.safetensors');
    const original = parseSafetensors(readFileSync(file), file);
    const again = parseSafetensors(writeSafetensors([...original.entries()]), 'mem');
    for (const [name, t] of original) {
      expect(again.get(name)!.shape).toEqual(t.shape);
      expect(again.get(name)!.data).toEqual(t.data);
    }
  });

  it('refuses data that does not fit the shape', () => {
    expect(() => writeSafetensors([['x', { shape: [2, 2], data: new Float32Array(3) }]])).toThrow(RangeError);
  });
});
