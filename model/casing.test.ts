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
  ])('%s → %d', (text, expected) => {
    expect(caseClass(text)).toBe(expected);
  });
});
