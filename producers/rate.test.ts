import { RatePacer, parseRate } from './rate';

describe('RatePacer', () => {
  it('spaces events to the rate with a fake clock', () => {
    let now = 1000;
    const pacer = new RatePacer(10, () => now);
    expect(pacer.delayFor(1)).toBeCloseTo(100);
    now += 100;
    expect(pacer.delayFor(5)).toBeCloseTo(500);
    now += 2000; // fell behind: no wait, no burst credit beyond schedule
    expect(pacer.delayFor(1)).toBe(0);
  });

  it('parses N/s and N/m', () => {
    expect(parseRate('100')).toBe(100);
    expect(parseRate('50/s')).toBe(50);
    expect(parseRate('120/m')).toBe(2);
    expect(() => parseRate('fast')).toThrow(/--rate/);
    expect(() => parseRate('0/s')).toThrow(/positive/);
  });
});
