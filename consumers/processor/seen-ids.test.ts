import { SeenIds, parseDuration, seenIdKey } from './seen-ids';

describe('SeenIds', () => {
  it('recognises an id within the window, per tenant and partition', () => {
    const seen = new SeenIds(1000, 100);
    seen.record(0, [seenIdKey('acme', 'a')], 10_000);
    expect(seen.seenAt(0, seenIdKey('acme', 'a'), 10_500)).toBe(10_000);
    expect(seen.seenAt(0, seenIdKey('other', 'a'), 10_500)).toBeNull();
    expect(seen.seenAt(0, seenIdKey(null, 'a'), 10_500)).toBeNull();
    expect(seen.seenAt(1, seenIdKey('acme', 'a'), 10_500)).toBeNull();
    expect(seen.seenAt(0, seenIdKey('acme', 'a'), 11_000)).toBeNull(); // window passed
  });

  it('stays bounded: drops what is past the window and the oldest beyond the limit', () => {
    const seen = new SeenIds(1000, 3);
    seen.record(0, ['a', 'b'], 0);
    seen.record(0, ['c', 'd'], 500);
    expect(seen.size(0)).toBe(3);
    expect(seen.seenAt(0, 'a', 600)).toBeNull();
    seen.record(0, ['e'], 1200); // a, b (and c, d) are older than the window now
    expect(seen.size(0)).toBe(3);
    seen.record(0, ['f'], 1600);
    expect(seen.seenAt(0, 'c', 1600)).toBeNull();
    expect(seen.seenAt(0, 'f', 1600)).toBe(1600);
    seen.forget(0);
    expect(seen.size(0)).toBe(0);
  });

  it('parses durations', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration('soon')).toBeNull();
  });
});
