import { RateLimiter } from './rate-limit';

describe('RateLimiter', () => {
  it('allows a burst of perMinute, then refills continuously', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) expect(limiter.take('t').ok).toBe(true);
    expect(limiter.take('t')).toEqual({ ok: false, retryAfterMs: 1000 });
    now += 1000;
    expect(limiter.take('t').ok).toBe(true);
    expect(limiter.take('t').ok).toBe(false);
  });

  it('keeps keys apart and charges costs', () => {
    let now = 0;
    const limiter = new RateLimiter(10, () => now);
    expect(limiter.take('a', 10).ok).toBe(true);
    expect(limiter.take('b', 10).ok).toBe(true);
    expect(limiter.take('a', 1).ok).toBe(false);
    const r = limiter.take('b', 5);
    expect(r).toEqual({ ok: false, retryAfterMs: 30_000 });
    now += 60_000;
    expect(limiter.take('a', 10).ok).toBe(true);
  });

  it('forgets idle buckets when it has too many', () => {
    let now = 0;
    const limiter = new RateLimiter(10, () => now, 2);
    limiter.take('a');
    limiter.take('b');
    now += 60_000;
    limiter.take('c');
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(1);
  });
});
