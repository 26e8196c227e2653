import { MicroBatcher, estimateTokens } from './batcher';

function fakeClock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('MicroBatcher', () => {
  it('closes a batch at maxEvents', () => {
    const clock = fakeClock();
    const batcher = new MicroBatcher<string>({ maxEvents: 3, maxWaitMs: 50, maxTokens: 1000 }, clock.now);
    expect(batcher.add('a', 10)).toEqual([]);
    expect(batcher.add('b', 10)).toEqual([]);
    expect(batcher.add('c', 10)).toEqual([['a', 'b', 'c']]);
    expect(batcher.pending).toBe(0);
  });

  it('closes a batch maxWaitMs after its first item, not before', () => {
    const clock = fakeClock();
    const batcher = new MicroBatcher<string>({ maxEvents: 10, maxWaitMs: 50, maxTokens: 1000 }, clock.now);
    batcher.add('a', 10);
    clock.advance(30);
    batcher.add('b', 10);
    expect(batcher.nextDeadline()).toBe(50);
    clock.advance(19);
    expect(batcher.poll()).toEqual([]);
    clock.advance(1);
    expect(batcher.poll()).toEqual([['a', 'b']]);
    expect(batcher.nextDeadline()).toBeNull();
  });

  it('keeps a token budget: closes the open batch before an item that would pass it', () => {
    const batcher = new MicroBatcher<string>({ maxEvents: 10, maxWaitMs: 50, maxTokens: 100, bucketBounds: [1000] }, fakeClock().now);
    expect(batcher.add('a', 60)).toEqual([]);
    expect(batcher.add('b', 60)).toEqual([['a']]);
    expect(batcher.add('c', 40)).toEqual([['b', 'c']]);
  });

  it('gives an item over the whole budget a batch of its own', () => {
    const batcher = new MicroBatcher<string>({ maxEvents: 10, maxWaitMs: 50, maxTokens: 100, bucketBounds: [1000] }, fakeClock().now);
    batcher.add('small', 10);
    expect(batcher.add('huge', 500)).toEqual([['small'], ['huge']]);
  });

  it('buckets by length so short and long texts do not share a batch', () => {
    const clock = fakeClock();
    const batcher = new MicroBatcher<string>({ maxEvents: 2, maxWaitMs: 50, maxTokens: 10_000, bucketBounds: [32, 128] }, clock.now);
    expect(batcher.add('short1', 10)).toEqual([]);
    expect(batcher.add('long1', 100)).toEqual([]);
    expect(batcher.add('short2', 12)).toEqual([['short1', 'short2']]);
    expect(batcher.add('huge', 400)).toEqual([]);
    clock.advance(50);
    expect(batcher.poll()).toEqual([['long1'], ['huge']]);
  });

  it('with maxWaitMs 0 sends every item at once', () => {
    const batcher = new MicroBatcher<string>({ maxEvents: 10, maxWaitMs: 0, maxTokens: 100 }, fakeClock().now);
    expect(batcher.add('a', 1)).toEqual([['a']]);
  });

  it('flush closes every open bucket', () => {
    const batcher = new MicroBatcher<string>({ maxEvents: 10, maxWaitMs: 50, maxTokens: 10_000, bucketBounds: [32] }, fakeClock().now);
    batcher.add('a', 1);
    batcher.add('b', 100);
    expect(batcher.flush()).toEqual([['a'], ['b']]);
    expect(batcher.pending).toBe(0);
  });
});

describe('estimateTokens', () => {
  it('counts a text pass plus one (question + text) pass per question', () => {
    const text = 'x'.repeat(400);
    expect(estimateTokens(text, [], true)).toBe(102);
    expect(estimateTokens(text, ['y'.repeat(40)], false)).toBe(10 + 100 + 3);
    expect(estimateTokens('東京東京', [], true)).toBe(6);
  });
});
