/**
 * Per-token rate limits: a token bucket per key holding at most `perMinute` requests, refilled
 * continuously. Pure, with an injected clock; idle buckets are forgotten so memory stays bounded.
 */
export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    /** Buckets untouched this long are full again anyway; drop them. */
    private readonly maxBuckets = 100_000,
  ) {
    if (!(perMinute > 0)) throw new RangeError(`rate limit must be > 0 per minute, got ${perMinute}`);
    this.perMs = perMinute / 60_000;
  }

  /** Takes `cost` requests from `key`'s bucket, or says how long until it could. */
  take(key: string, cost = 1): TakeResult {
    const t = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxBuckets) this.sweep(t);
      bucket = { tokens: this.perMinute, at: t };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (t - bucket.at) * this.perMs);
    bucket.at = t;
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((cost - bucket.tokens) / this.perMs) };
  }

  private sweep(t: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (t - b.at) * this.perMs >= this.perMinute) this.buckets.delete(key);
    }
  }
}
