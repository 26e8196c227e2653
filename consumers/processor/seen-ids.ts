/**
 * Ids already processed, per input partition, for idempotent ingestion: an event whose (tenant, id)
 * was processed within the window gets no second result (DUPLICATE_ID). Memory-bounded: entries
 * older than the window are dropped, and beyond `maxPerPartition` the oldest go first. Pure; the
 * changelog topic that makes it survive restarts and rebalances is seen-ids-changelog.ts.
 */

/** The key an event is recognised by: its tenant and id (the same id may be used by two tenants). */
export function seenIdKey(tenant: string | null | undefined, id: string): string {
  return `${tenant ?? ''}\u0000${id}`;
}

export class SeenIds {
  /** Per partition: key → when it was processed (ms), in insertion (≈ time) order. */
  private readonly partitions = new Map<number, Map<string, number>>();

  constructor(
    readonly windowMs: number,
    readonly maxPerPartition: number,
  ) {}

  /** When `key` was processed on `partition` within the window before `now`, else null. */
  seenAt(partition: number, key: string, now: number): number | null {
    const at = this.partitions.get(partition)?.get(key);
    return at !== undefined && now - at < this.windowMs ? at : null;
  }

  /** Records processed keys (after their transaction committed, or read back from the changelog). */
  record(partition: number, keys: Iterable<string>, at: number, now = at): void {
    let seen = this.partitions.get(partition);
    if (!seen) this.partitions.set(partition, (seen = new Map()));
    for (const key of keys) {
      seen.delete(key); // re-insert at the end: the newest position
      seen.set(key, at);
    }
    this.evict(seen, now);
  }

  /** Forgets a partition (revoked: the next owner restores it from the changelog). */
  forget(partition: number): void {
    this.partitions.delete(partition);
  }

  size(partition: number): number {
    return this.partitions.get(partition)?.size ?? 0;
  }

  private evict(seen: Map<string, number>, now: number): void {
    for (const [key, at] of seen) {
      if (seen.size <= this.maxPerPartition && now - at < this.windowMs) break;
      seen.delete(key);
    }
  }
}

/** Parses a duration like `24h`, `30m`, `90s`, `500ms`, `7d` to milliseconds; null when malformed. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(match[1]) * unit);
}
