/**
 * The micro-batcher: a pure class (no timers, no I/O; the clock is injected). Items wait in length
 * buckets so a batch holds texts of similar length (less padding); a bucket's batch closes when it
 * holds `maxEvents` items, when adding one more would pass `maxTokens`, or `maxWaitMs` after its
 * first item arrived.
 */
export interface BatcherOptions {
  maxEvents: number;
  maxWaitMs: number;
  /** Budget of (estimated) tokens per batch; one oversized item still forms a batch of its own. */
  maxTokens: number;
  /** Upper token bounds of the length buckets, ascending; longer items share the last bucket. */
  bucketBounds?: number[];
}

interface Bucket<T> {
  items: T[];
  tokens: number;
  openedAt: number;
}

export const DEFAULT_BUCKET_BOUNDS = [32, 64, 128, 256];

export class MicroBatcher<T> {
  private readonly buckets: Array<Bucket<T> | null>;
  private readonly bounds: number[];
  private pendingCount = 0;

  constructor(
    private readonly options: BatcherOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (options.maxEvents < 1 || options.maxTokens < 1 || options.maxWaitMs < 0)
      throw new RangeError('batcher: maxEvents and maxTokens must be ≥ 1 and maxWaitMs ≥ 0');
    this.bounds = options.bucketBounds ?? DEFAULT_BUCKET_BOUNDS;
    this.buckets = new Array(this.bounds.length + 1).fill(null);
  }

  /** Items waiting in open buckets. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Adds one item of `tokens` estimated tokens; returns the batches this closes (0, 1 or 2). */
  add(item: T, tokens: number): T[][] {
    const index = this.bucketOf(tokens);
    const closed: T[][] = [];
    let bucket = this.buckets[index];
    if (bucket && bucket.items.length > 0 && bucket.tokens + tokens > this.options.maxTokens) {
      closed.push(this.close(index));
      bucket = null;
    }
    if (!bucket) {
      bucket = { items: [], tokens: 0, openedAt: this.now() };
      this.buckets[index] = bucket;
    }
    bucket.items.push(item);
    bucket.tokens += tokens;
    this.pendingCount += 1;
    if (bucket.items.length >= this.options.maxEvents || bucket.tokens >= this.options.maxTokens) closed.push(this.close(index));
    if (this.options.maxWaitMs === 0) closed.push(...this.flush());
    return closed;
  }

  /** Returns the batches whose wait has expired. Never blocks. */
  poll(): T[][] {
    const now = this.now();
    const closed: T[][] = [];
    this.buckets.forEach((bucket, index) => {
      if (bucket && now - bucket.openedAt >= this.options.maxWaitMs) closed.push(this.close(index));
    });
    return closed;
  }

  /** Closes every open bucket (shutdown, rebalance). */
  flush(): T[][] {
    const closed: T[][] = [];
    this.buckets.forEach((bucket, index) => {
      if (bucket) closed.push(this.close(index));
    });
    return closed;
  }

  /** When the earliest open bucket is due, or null when none is open (for the caller's timer). */
  nextDeadline(): number | null {
    let deadline: number | null = null;
    for (const bucket of this.buckets) {
      if (bucket) {
        const due = bucket.openedAt + this.options.maxWaitMs;
        deadline = deadline === null ? due : Math.min(deadline, due);
      }
    }
    return deadline;
  }

  private bucketOf(tokens: number): number {
    const index = this.bounds.findIndex((bound) => tokens <= bound);
    return index === -1 ? this.bounds.length : index;
  }

  private close(index: number): T[] {
    const bucket = this.buckets[index]!;
    this.buckets[index] = null;
    this.pendingCount -= bucket.items.length;
    return bucket.items;
  }
}

/**
 * Tokens an input will cost the encoder, estimated from its length before tokenizing (WordPiece
 * averages ~4 characters per token on English text; CJK is closer to 1): special tokens + text,
 * plus one (question + text) pass per question.
 */
export function estimateTokens(text: string, questions: readonly string[], wantsTextPass: boolean): number {
  const textTokens = estimateTextTokens(text);
  let total = wantsTextPass ? textTokens + 2 : 0;
  for (const q of questions) total += estimateTextTokens(q) + textTokens + 3;
  return Math.max(total, 1);
}

function estimateTextTokens(text: string): number {
  let wide = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x2e7f) wide += 1;
  return Math.ceil((text.length - wide) / 4) + wide;
}
