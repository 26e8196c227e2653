import { codePointToUtf16Map, toUtf16Offsets } from './offsets';

describe('code point → UTF-16 offsets', () => {
  it('is the identity on BMP text', () => {
    expect(Array.from(codePointToUtf16Map('abc'))).toEqual([0, 1, 2, 3]);
  });
  it('counts an astral character (emoji) as two UTF-16 units', () => {
    const text = 'a😀b';
    expect(Array.from(codePointToUtf16Map(text))).toEqual([0, 1, 3, 4]);
    const flat = toUtf16Offsets(Int32Array.from([2, 3]), codePointToUtf16Map(text));
    expect(text.slice(flat[0], flat[1])).toBe('b');
  });
  it('keeps lone surrogates as one unit each', () => {
    expect(Array.from(codePointToUtf16Map('\ud800x'))).toEqual([0, 1, 2]);
  });
  it('throws on an offset past the text', () => {
    expect(() => toUtf16Offsets(Int32Array.from([5]), codePointToUtf16Map('ab'))).toThrow(RangeError);
  });
});
