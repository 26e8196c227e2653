import { BoundedQueue } from './bounded-queue';

describe('BoundedQueue', () => {
  it('is FIFO and refuses pushes beyond maxItems, counting them as missed', () => {
    const q = new BoundedQueue({ maxItems: 3, maxBytes: 1_000 });
    expect(['a', 'b', 'c', 'd', 'e'].map((f) => q.push(f))).toEqual([true, true, true, false, false]);
    expect(q.length).toBe(3);
    expect(q.missed).toBe(2);
    expect(q.shift()).toBe('a');
    expect(q.push('f')).toBe(true);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual(['b', 'c', 'f', undefined]);
    expect(q.takeMissed()).toBe(2);
    expect(q.takeMissed()).toBe(0);
  });

  it('bounds bytes as well as items, but always takes one frame into an empty queue', () => {
    const q = new BoundedQueue({ maxItems: 100, maxBytes: 10 });
    expect(q.push('x'.repeat(50))).toBe(true); // larger than maxBytes, but the queue was empty
    expect(q.push('y')).toBe(false);
    q.shift();
    expect(q.byteLength).toBe(0);
    expect(q.push('12345')).toBe(true);
    expect(q.push('67890')).toBe(true);
    expect(q.push('z')).toBe(false);
    expect(q.byteLength).toBe(10);
  });

  it('counts bytes in UTF-8', () => {
    const q = new BoundedQueue({ maxItems: 10, maxBytes: 8 });
    expect(q.push('é')).toBe(true);
    expect(q.byteLength).toBe(2);
    expect(q.push('🚀🚀')).toBe(false);
  });

  it('control frames go in even when full', () => {
    const q = new BoundedQueue({ maxItems: 1, maxBytes: 100 });
    q.push('a');
    q.pushControl('lagged');
    expect([q.shift(), q.shift()]).toEqual(['a', 'lagged']);
  });

  it('reports room with hysteresis', () => {
    const q = new BoundedQueue({ maxItems: 4, maxBytes: 100 });
    for (const f of ['a', 'b', 'c', 'd']) q.push(f);
    expect(q.hasRoom()).toBe(false);
    q.shift();
    expect(q.hasRoom()).toBe(false);
    q.shift();
    expect(q.hasRoom()).toBe(true);
  });

  it('keeps its memory bounded over many push/shift cycles', () => {
    const q = new BoundedQueue({ maxItems: 10, maxBytes: 1_000_000 });
    for (let i = 0; i < 100_000; i++) {
      q.push(`m${i}`);
      if (i % 2 === 0 || q.length >= 10) q.shift();
    }
    expect(q.length).toBeLessThanOrEqual(10);
    expect((q as unknown as { items: string[] }).items.length).toBeLessThan(3_000);
  });

  it('rejects nonsense limits', () => {
    expect(() => new BoundedQueue({ maxItems: 0, maxBytes: 1 })).toThrow(RangeError);
  });
});
