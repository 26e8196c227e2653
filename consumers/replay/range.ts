/**
 * The range of a replay: `--from` / `--to` as ISO timestamps, durations back from now (`2h`, `30m`,
 * `1d`, `45s`) or `partition:offset` lists (`0:100,1:250`), `--partitions`, resolved against the
 * topic's offsets into one half-open offset interval per partition. Pure; the Kafka lookups of
 * timestamps happen in the reader, which passes their results in.
 */
import { TridentError } from '../../common/errors';

export type Bound = { kind: 'time'; ms: number; text: string } | { kind: 'offsets'; offsets: Map<number, bigint>; text: string };

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses one bound. Throws TridentError REPLAY_BAD_RANGE naming the flag and the accepted forms. */
export function parseBound(value: string, flag: '--from' | '--to', now = Date.now()): Bound {
  const text = value.trim();
  const duration = DURATION.exec(text);
  if (duration) return { kind: 'time', ms: now - Number(duration[1]) * UNIT_MS[duration[2]], text };
  if (/^\d+:\d+(,\d+:\d+)*$/.test(text)) {
    const offsets = new Map<number, bigint>();
    for (const part of text.split(',')) {
      const [p, o] = part.split(':');
      if (offsets.has(Number(p))) throw new TridentError('REPLAY_BAD_RANGE', `${flag} ${value}: partition ${p} is named twice`);
      offsets.set(Number(p), BigInt(o));
    }
    return { kind: 'offsets', offsets, text };
  }
  // ISO 8601 with a date; a bare number is not a timestamp here (it would be ambiguous with offsets).
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return { kind: 'time', ms, text };
  }
  throw new TridentError(
    'REPLAY_BAD_RANGE',
    `${flag} ${JSON.stringify(value)}: expected an ISO timestamp (2026-12-02T10:00:00Z), a duration back from now (90s, 30m, 2h, 1d) or partition:offset pairs (0:100,1:250)`,
  );
}

/** Parses `--partitions 0,2`. Throws REPLAY_BAD_RANGE. */
export function parsePartitions(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p)))
    throw new TridentError('REPLAY_BAD_RANGE', `--partitions ${JSON.stringify(value)}: expected partition numbers like 0,2`);
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

/** What the topic holds per partition: the first and the next-to-be-written offsets. */
export interface PartitionOffsets {
  partition: number;
  low: bigint;
  high: bigint;
}

/** Per partition: the first offset to read and the offset to stop before. */
export interface PartitionRange {
  partition: number;
  start: bigint;
  end: bigint;
}

export interface ResolvedRange {
  partitions: PartitionRange[];
  /** Upper bound of the messages in range (transaction markers and aborted records take offsets too). */
  messages: bigint;
}

/**
 * Resolves bounds to offsets. `timeOffsets(ms)` is the first offset per partition whose timestamp is
 * ≥ ms (the topic's high offset when there is none), looked up by the caller. Throws TridentError
 * REPLAY_UNKNOWN_PARTITION, REPLAY_RANGE_PAST_END (a start beyond what the partition holds) or
 * REPLAY_EMPTY_RANGE (nothing in range), each naming the range.
 */
export function resolveRange(
  topic: string,
  offsets: readonly PartitionOffsets[],
  bounds: { from?: Bound; to?: Bound; partitions?: number[] },
  timeOffsets: { from?: Map<number, bigint>; to?: Map<number, bigint> } = {},
): ResolvedRange {
  const known = new Set(offsets.map((o) => o.partition));
  for (const p of [
    ...(bounds.partitions ?? []),
    ...(bounds.from?.kind === 'offsets' ? bounds.from.offsets.keys() : []),
    ...(bounds.to?.kind === 'offsets' ? bounds.to.offsets.keys() : []),
  ]) {
    if (!known.has(p))
      throw new TridentError(
        'REPLAY_UNKNOWN_PARTITION',
        `${topic} has no partition ${p} (it has ${[...known].sort((a, b) => a - b).join(', ')})`,
      );
  }
  const selected = offsets
    .filter((o) => !bounds.partitions || bounds.partitions.includes(o.partition))
    .filter((o) => bounds.from?.kind !== 'offsets' || bounds.partitions || bounds.from.offsets.has(o.partition));
  const partitions: PartitionRange[] = [];
  for (const o of selected) {
    let start = o.low;
    if (bounds.from?.kind === 'offsets') start = bounds.from.offsets.get(o.partition) ?? o.low;
    else if (bounds.from?.kind === 'time') start = timeOffsets.from?.get(o.partition) ?? o.high;
    let end = o.high;
    if (bounds.to?.kind === 'offsets') end = bounds.to.offsets.get(o.partition) ?? o.high;
    else if (bounds.to?.kind === 'time') end = timeOffsets.to?.get(o.partition) ?? o.high;
    if (start > o.high)
      throw new TridentError(
        'REPLAY_RANGE_PAST_END',
        `${topic}[${o.partition}]: --from offset ${start} is past the end of the partition (it holds offsets ${o.low}..${o.high - 1n})`,
      );
    if (start < o.low) start = o.low; // older records were deleted by retention
    if (end > o.high) end = o.high;
    partitions.push({ partition: o.partition, start, end: end < start ? start : end });
  }
  const messages = partitions.reduce((s, p) => s + (p.end - p.start), 0n);
  if (messages === 0n) {
    const described = [
      bounds.from ? `from ${bounds.from.text}` : 'from the beginning',
      bounds.to ? `to ${bounds.to.text}` : 'to the end',
      bounds.partitions ? `partitions ${bounds.partitions.join(',')}` : 'all partitions',
    ].join(', ');
    throw new TridentError('REPLAY_EMPTY_RANGE', `nothing to replay in ${topic} (${described}): the range holds no messages`);
  }
  return { partitions, messages };
}
