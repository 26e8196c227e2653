import { ModelArtifactError } from '../common/errors';
import { Head, linear, linearJs, runHead, withPadding } from './heads';
import { simdAvailable } from './simd';
import { parseSafetensors } from './safetensors';

/** Builds a safetensors buffer from named float32 tensors. */
function safetensors(tensors: Record<string, { shape: number[]; data: number[] }>, dtype = 'F32'): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.from(Float32Array.from(Object.values(tensors).flatMap((t) => t.data)).buffer);
  return Buffer.concat([length, json, data]);
}

describe('parseSafetensors', () => {
  it('reads F32 tensors with their shapes', () => {
    const t = parseSafetensors(safetensors({ w: { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, b: { shape: [2], data: [0.5, -0.5] } }), 'x');
    expect(t.get('w')!.shape).toEqual([2, 3]);
    expect(Array.from(t.get('w')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(t.get('b')!.data)).toEqual([0.5, -0.5]);
  });
  it('names the file on a bad dtype, header or size', () => {
    expect(() => parseSafetensors(safetensors({ w: { shape: [1], data: [1] } }, 'F16'), 'heads/a.safetensors')).toThrow(ModelArtifactError);
    expect(() => parseSafetensors(Buffer.alloc(4), 'heads/a.safetensors')).toThrow(/heads\/a.safetensors/);
    const truncated = safetensors({ w: { shape: [4], data: [1, 2, 3, 4] } }).subarray(0, -4);
    expect(() => parseSafetensors(truncated, 'h')).toThrow(/data offsets/);
  });
});

describe('linear heads', () => {
  const layer = (weight: number[], bias: number[], inSize: number, activation: 'none' | 'tanh' | 'relu' | 'gelu' = 'none') => ({
    weight: Float32Array.from(weight),
    bias: Float32Array.from(bias),
    inSize,
    outSize: bias.length,
    activation,
  });

  it('computes x · Wᵀ + b with PyTorch [out, in] weights, row by row', () => {
    const y = linear(layer([1, 0, 0, 1, 1, 1], [0, 1, -1], 2), Float32Array.from([2, 3, -1, 4]), 2);
    expect(Array.from(y)).toEqual([2, 4, 4, -1, 5, 2]);
  });

  it('applies activations', () => {
    const x = Float32Array.from([-1, 0.5]);
    expect(Array.from(linear(layer([1, 0, 0, 1], [0, 0], 2, 'relu'), x, 1))).toEqual([0, 0.5]);
    expect(linear(layer([1, 0, 0, 1], [0, 0], 2, 'tanh'), x, 1)[0]).toBeCloseTo(Math.tanh(-1), 6);
    // PyTorch: F.gelu(torch.tensor([-1., 0.5])) = [-0.1587, 0.3457]
    const g = linear(layer([1, 0, 0, 1], [0, 0], 2, 'gelu'), x, 1);
    expect(g[0]).toBeCloseTo(-0.158655, 5);
    expect(g[1]).toBeCloseTo(0.345731, 5);
  });

  it('chains layers and reads from an offset', () => {
    const head = { spec: {}, layers: [layer([1, 1], [0], 2), layer([2], [1], 1)] } as unknown as Head;
    expect(Array.from(runHead(head, Float32Array.from([9, 9, 1, 2]), 1, 2))).toEqual([7]);
  });

  it("divides the logits by the head's temperature (absent: unchanged)", () => {
    const layers = [layer([1, 0, 0, 1], [0.5, -1], 2)];
    const x = Float32Array.from([3, 1]);
    const plain = runHead({ spec: {}, layers } as unknown as Head, x, 1);
    const one = runHead({ spec: { temperature: 1 }, layers } as unknown as Head, x, 1);
    const two = runHead({ spec: { temperature: 2 }, layers } as unknown as Head, x, 1);
    expect(Array.from(plain)).toEqual([3.5, 0]);
    expect(Array.from(one)).toEqual(Array.from(plain));
    expect(Array.from(two)).toEqual([1.75, 0]);
  });
});

describe('SIMD linear', () => {
  it('is available in Node 20', () => {
    expect(simdAvailable()).toBe(true);
  });
  it.each([
    [1, 384, 384, 'tanh'],
    [7, 384, 9, 'none'],
    [3, 32, 2, 'none'],
    [2, 36, 77, 'relu'],
  ] as const)('matches the JavaScript loop: %d rows, %d → %d, %s', (rows, inSize, outSize, activation) => {
    const random = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + rows) * 0.5);
    const layer = withPadding({ weight: random(outSize * inSize), bias: random(outSize), inSize, outSize, activation });
    const x = random(5 * inSize + rows * inSize);
    const simd = linear(layer, x, rows, 5 * inSize);
    const js = linearJs(layer, x, rows, 5 * inSize);
    expect(simd).toHaveLength(rows * outSize);
    for (let k = 0; k < js.length; k++) expect(Math.abs(simd[k] - js[k])).toBeLessThan(1e-4);
  });
});
