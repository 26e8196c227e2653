import { argmax, softmax } from './softmax';

describe('softmax', () => {
  it('matches the textbook formula on small logits', () => {
    const p = softmax([1, 2, 3]);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(p[0]).toBeCloseTo(Math.exp(1) / z, 12);
    expect(p[2]).toBeCloseTo(Math.exp(3) / z, 12);
  });
  it('does not overflow on huge logits', () => {
    const p = softmax([1000, 1000, -1000]);
    expect(p[0]).toBeCloseTo(0.5, 12);
    expect(p[2]).toBe(0);
  });
  it('gives masked (-Infinity) entries probability 0', () => {
    const p = softmax([-Infinity, 0, 0]);
    expect(Array.from(p)).toEqual([0, 0.5, 0.5]);
  });
  it('returns zeros, not NaN, when everything is masked', () => {
    expect(Array.from(softmax([-Infinity, -Infinity]))).toEqual([0, 0]);
  });
  it('works on a slice', () => {
    const p = softmax(Float32Array.from([9, 0, 0, 9]), 1, 2);
    expect(Array.from(p)).toEqual([0.5, 0.5]);
  });
  it('argmax takes the first maximum', () => {
    expect(argmax([1, 3, 3])).toBe(1);
    expect(argmax([])).toBe(-1);
  });
});
