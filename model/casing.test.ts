import { caseClass } from './casing';

describe('caseClass', () => {
  it.each([
    ['', 0],
    ['123', 0],
    ['hello', 1],
    ['Hello', 2],
    ['I', 2],
    ['McDonald', 2],
    ['NASA', 3],
    ['iPhone', 4],
    ['École', 2],
    ['东京', 0],
    ['ⅧⅨ', 3], // Roman numerals: Other_Uppercase, cased for Python too
    ['ǅ', 0], // titlecase: neither Uppercase nor Lowercase
  ])('%s → %d', (text, expected) => {
    expect(caseClass(text)).toBe(expected);
  });
});
