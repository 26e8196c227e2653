/** Dead letters and the guard against dead-lettering everything. Pure. */
import { createHash } from 'node:crypto';
import type { DeadLetter } from '../../schemas/generated/dlq';
import { processorErrorCodes } from '../../common/error-codes';
import { TridentError } from '../../common/errors';

export interface RawMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export type Stage = 'decode' | 'validate' | 'infer';

export function deadLetter(
  message: RawMessage,
  code: string,
  reason: string,
  stage: Stage,
  eventId: string | null = null,
  now = Date.now(),
): DeadLetter {
  const headers: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[key] = Buffer.isBuffer(first) ? first : Buffer.from(first);
  }
  const value = fitValue(message.value, budgetForValue(message.key, headers, reason));
  return {
    sourceTopic: message.topic,
    sourcePartition: message.partition,
    sourceOffset: message.offset,
    key: message.key,
    value: value.bytes,
    headers,
    eventId,
    errorCode: code,
    reason,
    stage,
    failedAt: now,
    valueBytes: value.truncated ? message.value!.length : null,
    valueSha256: value.truncated ? createHash('sha256').update(message.value!).digest('hex') : null,
  };
}

/**
 * Largest dead letter produced (the broker's default message.max.bytes is 1 MB, and its Avro
 * framing, source fields and reason come on top). An input near the broker's limit plus its headers
 * would not fit whole: its value is cut to what fits, with the original length and sha256 recorded.
 */
export const MAX_DEAD_LETTER_BYTES = 900_000;

function budgetForValue(key: Buffer | null, headers: Record<string, Buffer>, reason: string): number {
  let used = (key?.length ?? 0) + Buffer.byteLength(reason) + 1024;
  for (const [name, value] of Object.entries(headers)) used += Buffer.byteLength(name) + value.length + 8;
  return Math.max(0, MAX_DEAD_LETTER_BYTES - used);
}

function fitValue(value: Buffer | null, budget: number): { bytes: Buffer | null; truncated: boolean } {
  if (value === null || value.length <= budget) return { bytes: value, truncated: false };
  return { bytes: value.subarray(0, budget), truncated: true };
}

export class DeadLetterRateExceeded extends TridentError {
  constructor(
    readonly invalid: number,
    readonly window: number,
    readonly maxRatio: number,
    readonly topCodes: string,
  ) {
    super(
      processorErrorCodes.DLQ_RATE_EXCEEDED,
      `${invalid} of the last ${window} events were dead-lettered (more than ${Math.round(maxRatio * 100)} %; top codes: ${topCodes}). ` +
        'This looks like a bad deploy or a wrong schema rather than bad input, so the processor stops instead of dead-lettering everything. ' +
        'Fix the cause, or raise processor.dlqMaxRatio.',
    );
  }
}

/**
 * Counts outcomes over the last `window` events; once the window is full, more than `maxRatio`
 * invalid stops the processor (a thrown DeadLetterRateExceeded).
 */
export class DeadLetterRateGuard {
  private readonly outcomes: Array<string | null>;
  private next = 0;
  private seen = 0;
  private invalid = 0;

  constructor(
    private readonly window: number,
    private readonly maxRatio: number,
  ) {
    this.outcomes = new Array(window).fill(null);
  }

  /** Records one event: `code` of its dead letter, or null when it was processed. */
  record(code: string | null): void {
    const evicted = this.seen >= this.window ? this.outcomes[this.next] : null;
    if (evicted) this.invalid -= 1;
    this.outcomes[this.next] = code;
    if (code) this.invalid += 1;
    this.next = (this.next + 1) % this.window;
    this.seen += 1;
  }

  /** @throws DeadLetterRateExceeded when the full window holds too many dead letters. */
  check(): void {
    if (this.seen < this.window || this.invalid / this.window <= this.maxRatio) return;
    const counts = new Map<string, number>();
    for (const code of this.outcomes) if (code) counts.set(code, (counts.get(code) ?? 0) + 1);
    const top = [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([c, n]) => `${c} ×${n}`)
      .join(', ');
    throw new DeadLetterRateExceeded(this.invalid, this.window, this.maxRatio, top);
  }
}
