/**
 * Drops repeated results by event id: what a reader of the task topics needs when the processor runs
 * with `processor.delivery: at-least-once` (a crash or rebalance re-delivers the batch in flight, so
 * its results can appear twice). A result is identified by its topic (one task per topic), its
 * tenant and its event id; the first copy is kept. Memory is bounded: at most `maxIds` keys, the
 * oldest forgotten first (duplicates arrive close together — within one re-delivered batch — so a
 * window of recent ids is enough). Pure: no Kafka, no clock.
 */
export interface ResultIdentity {
  id: string;
  tenant?: string | null;
}

export class ResultDedup {
  private readonly seen = new Set<string>();
  private duplicateCount = 0;

  constructor(private readonly maxIds = 1_000_000) {
    if (maxIds < 1) throw new RangeError('ResultDedup: maxIds must be ≥ 1');
  }

  /** True the first time a (topic, tenant, id) is seen; false for a repeat (drop it). */
  first(topic: string, result: ResultIdentity): boolean {
    const key = `${topic}\u0000${result.tenant ?? ''}\u0000${result.id}`;
    if (this.seen.has(key)) {
      this.duplicateCount += 1;
      return false;
    }
    this.seen.add(key);
    // A Set iterates in insertion order: its first key is the oldest.
    if (this.seen.size > this.maxIds) this.seen.delete(this.seen.values().next().value!);
    return true;
  }

  /** Repeats dropped so far. */
  get duplicates(): number {
    return this.duplicateCount;
  }
}
