/**
 * The micro-batcher: a pure class (no timers, no I/O; the clock is injected). Items wait in length
 * buckets so a batch holds texts of similar length (less padding); a bucket's batch closes when it
 * holds `maxEvents` items, when adding one more would pass `maxTokens`, or `maxWaitMs` after its
 * first item arrived.
 *
 * With `adaptiveWait` the wait follows the load: a batch is only worth waiting for while the encoder
 * is busy anyway. The batcher counts the batches it handed out and the caller reports each one
 * finished (`done`); while none is in flight an item is sent at once, and when the last one in
 * flight finishes, whatever waits is sent without waiting for its deadline. Under load (a batch
 * always in flight) it batches exactly like the fixed wait.
 */
export interface BatcherOptions {
  maxEvents: number;
  maxWaitMs: number;
  /** Budget of (estimated) tokens per batch; one oversized item still forms a batch of its own. */
  maxTokens: number;
  /** Upper token bounds of the length buckets, ascending; longer items share the last bucket. */
  bucketBounds?: number[];
  /** Wait for more items only while a batch is in flight (see above); default false: always wait up to `maxWaitMs`. */
  adaptiveWait?: boolean;
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
  private inFlightCount = 0;

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

  /** Batches handed out and not yet reported `done`. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Adds one item of `tokens` estimated tokens; returns the batches this closes (0, 1 or 2; more with `adaptiveWait` when idle). */
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
    // No wait at all, or (adaptive) an idle encoder: nothing is gained by holding the item back.
    if (this.options.maxWaitMs === 0 || (this.options.adaptiveWait && this.inFlightCount === 0 && closed.length === 0))
      closed.push(...this.closeAll());
    return this.handOut(closed);
  }

  /**
   * One batch handed out by this batcher has finished. With `adaptiveWait`, when it was the last one
   * in flight the encoder is idle: returns what waits (all open buckets), else nothing.
   */
  done(): T[][] {
    if (this.inFlightCount === 0) throw new RangeError('batcher: done() without a batch in flight');
    this.inFlightCount -= 1;
    if (!this.options.adaptiveWait || this.inFlightCount > 0) return [];
    return this.handOut(this.closeAll());
  }

  /** Returns the batches whose wait has expired. Never blocks. */
  poll(): T[][] {
    const now = this.now();
    const closed: T[][] = [];
    this.buckets.forEach((bucket, index) => {
      if (bucket && now - bucket.openedAt >= this.options.maxWaitMs) closed.push(this.close(index));
    });
    return this.handOut(closed);
  }

  /** Closes every open bucket (shutdown, rebalance). */
  flush(): T[][] {
    return this.handOut(this.closeAll());
  }

  private closeAll(): T[][] {
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

  /** Every batch returned to the caller is in flight until it reports it `done`. */
  private handOut(batches: T[][]): T[][] {
    this.inFlightCount += batches.length;
    return batches;
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
