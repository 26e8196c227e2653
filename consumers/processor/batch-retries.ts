/**
 * Retries of failed partition batches. A batch that fails for a reason that is its own (an encode
 * error, a result the broker refuses, …) would otherwise be re-seeked and retried for ever, holding
 * its partition still; after `maxRetries` failures at the same offset the processor stops with a
 * coded error naming the partition and offset. Failures that are nobody's fault of the batch (the
 * model restarting, the producer fenced) are not counted. Pure.
 */
import { TridentError } from '../../common/errors';

export class BatchRetriesExhaustedError extends TridentError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      'BATCH_RETRIES_EXHAUSTED',
      `${topic}[${partition}]@${offset}: the batch starting here failed ${attempts} times (last: ${(cause as Error)?.message ?? String(cause)}); ` +
        'stopping instead of retrying it for ever. Fix the cause (see the log), or raise processor.maxBatchRetries.',
      { cause },
    );
  }
}

export class BatchRetries {
  private readonly failures = new Map<string, { offset: string; attempts: number }>();

  constructor(
    readonly maxRetries: number,
    private readonly baseDelayMs = 500,
    private readonly maxDelayMs = 30_000,
  ) {}

  /**
   * Records one failure of the batch of `topic[partition]` starting at `offset`; returns how long to
   * wait before retrying it. @throws BatchRetriesExhaustedError once it failed more than `maxRetries` times.
   */
  failed(topic: string, partition: number, offset: string, cause: unknown): number {
    const key = `${topic}-${partition}`;
    const previous = this.failures.get(key);
    const attempts = previous && previous.offset === offset ? previous.attempts + 1 : 1;
    this.failures.set(key, { offset, attempts });
    if (attempts > this.maxRetries) throw new BatchRetriesExhaustedError(topic, partition, offset, attempts, cause);
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempts - 1));
  }

  /** The partition committed: its count starts again. */
  succeeded(topic: string, partition: number): void {
    this.failures.delete(`${topic}-${partition}`);
  }
}
