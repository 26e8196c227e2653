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

describe('MicroBatcher with adaptiveWait', () => {
  const options = { maxEvents: 4, maxWaitMs: 50, maxTokens: 10_000, bucketBounds: [1000], adaptiveWait: true };

  it('sends an item at once while no batch is in flight (an idle encoder is never kept waiting)', () => {
    const clock = fakeClock();
    const batcher = new MicroBatcher<string>(options, clock.now);
    expect(batcher.add('a', 10)).toEqual([['a']]);
    expect(batcher.inFlight).toBe(1);
    expect(batcher.nextDeadline()).toBeNull();
  });

  it('while a batch is in flight, waits up to maxWaitMs like the fixed wait', () => {
    const clock = fakeClock();
    const batcher = new MicroBatcher<string>(options, clock.now);
    batcher.add('a', 10);
    expect(batcher.add('b', 10)).toEqual([]);
    clock.advance(49);
    expect(batcher.poll()).toEqual([]);
    clock.advance(1);
    expect(batcher.poll()).toEqual([['b']]);
    expect(batcher.inFlight).toBe(2);
  });

  it('while busy, a full batch still closes at maxEvents', () => {
    const batcher = new MicroBatcher<string>(options, fakeClock().now);
    batcher.add('a', 10);
    expect(['b', 'c', 'd'].flatMap((x) => batcher.add(x, 10))).toEqual([]);
    expect(batcher.add('e', 10)).toEqual([['b', 'c', 'd', 'e']]);
  });

  it('when the last batch in flight finishes, sends what waits without waiting for its deadline', () => {
    const clock = fakeClock();
    const batcher = new MicroBatcher<string>(options, clock.now);
    batcher.add('a', 10);
    batcher.add('b', 10);
    batcher.add('c', 10);
    clock.advance(5);
    expect(batcher.done()).toEqual([['b', 'c']]);
    expect(batcher.inFlight).toBe(1);
    expect(batcher.pending).toBe(0);
  });

  it('does not send early while another batch is still in flight', () => {
    const batcher = new MicroBatcher<string>({ ...options, maxEvents: 2 }, fakeClock().now);
    expect(batcher.add('a', 10)).toEqual([['a']]);
    batcher.add('b', 10);
    expect(batcher.add('c', 10)).toEqual([['b', 'c']]);
    expect(batcher.add('d', 10)).toEqual([]);
    expect(batcher.done()).toEqual([]); // one of two finished: still busy
    expect(batcher.done()).toEqual([['d']]);
  });

  it('under steady load batches like the fixed wait; at low load it adds no wait', () => {
    // Items every 5 ms, each batch taking 20 ms of model time: the adaptive batcher forms batches
    // (it is busy), while one item every 100 ms (idle between) is sent the moment it arrives.
    const clock = fakeClock();
    const batcher = new MicroBatcher<string>({ ...options, maxEvents: 32 }, clock.now);
    const running: Array<{ until: number }> = [];
    const sizes: number[] = [];
    const waits: number[] = [];
    const arrivals = new Map<string, number>();
    const start = (batches: string[][]) =>
      batches.forEach((b) => {
        sizes.push(b.length);
        b.forEach((x) => waits.push(clock.now() - arrivals.get(x)!));
        running.push({ until: clock.now() + 20 });
      });
    const tick = () => {
      for (const r of [...running]) {
        if (r.until > clock.now()) continue;
        running.splice(running.indexOf(r), 1);
        start(batcher.done());
      }
      start(batcher.poll());
    };
    for (let i = 0; i < 40; i++) {
      arrivals.set(`busy-${i}`, clock.now());
      start(batcher.add(`busy-${i}`, 10));
      clock.advance(5);
      tick();
    }
    for (let t = 0; t < 200; t += 5, clock.advance(5)) tick();
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    sizes.length = 0;
    waits.length = 0;
    for (let i = 0; i < 5; i++) {
      arrivals.set(`idle-${i}`, clock.now());
      start(batcher.add(`idle-${i}`, 10));
      for (let t = 0; t < 100; t += 5) {
        clock.advance(5);
        tick();
      }
    }
    expect(sizes).toEqual([1, 1, 1, 1, 1]);
    expect(waits).toEqual([0, 0, 0, 0, 0]);
  });

  it('done() without a batch in flight is a caller bug', () => {
    expect(() => new MicroBatcher<string>(options, fakeClock().now).done()).toThrow(RangeError);
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
