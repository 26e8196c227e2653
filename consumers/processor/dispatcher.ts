/**
 * Feeds valid events into the micro-batcher and the batches into inference; each submitted event
 * gets a promise of its own outcome. Events of any input partition may share a batch. The timer
 * that closes batches on `maxWaitMs` is the only timer; nothing sleeps.
 */
import { MicroBatcher, type BatcherOptions } from './batcher';
import { InferenceStep, type InferenceItem, type InferenceOutcome } from './inference';
import { batchEvents, batchTokens } from './metrics';
import { isRetriable } from '../../common/errors';

interface Pending {
  item: InferenceItem;
  tokens: number;
  resolve: (outcome: InferenceOutcome) => void;
  reject: (error: unknown) => void;
}

export class Dispatcher {
  private readonly batcher: MicroBatcher<Pending>;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  /**
   * @param heavyInference where batches over the batch token budget run (one event that alone costs
   * more than a micro-batch): a lane of its own, so such events never occupy the slots of `inference`
   * that every other partition's batches need. Default: `inference`.
   */
  constructor(
    private readonly options: BatcherOptions,
    private readonly inference: InferenceStep,
    private readonly onRetry: (error: unknown, attempt: number) => void = () => undefined,
    private readonly heavyInference: InferenceStep = inference,
  ) {
    this.batcher = new MicroBatcher<Pending>(options);
  }

  /** Queues one event; resolves with its outcome once its batch has run. */
  submit(item: InferenceItem, tokens: number): Promise<InferenceOutcome> {
    return new Promise((resolve, reject) => {
      const closed = this.batcher.add({ item, tokens, resolve, reject }, tokens);
      for (const batch of closed) void this.runBatch(batch);
      this.arm();
    });
  }

  /** Sends whatever waits now (shutdown, end of input). */
  flush(): void {
    for (const batch of this.batcher.flush()) void this.runBatch(batch);
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.closed) return; // a batch finishing after close() must not start a timer that keeps the process alive
    const deadline = this.batcher.nextDeadline();
    if (deadline === null) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        for (const batch of this.batcher.poll()) void this.runBatch(batch);
        this.arm();
      },
      Math.max(0, deadline - performance.now()),
    );
  }

  /** Runs one batch; then tells the batcher, which (adaptive wait) may hand out what waits now that the encoder is idle. */
  private async runBatch(batch: Pending[]): Promise<void> {
    try {
      await this.runOnce(batch);
    } finally {
      for (const next of this.batcher.done()) void this.runBatch(next);
      this.arm();
    }
  }

  private async runOnce(batch: Pending[]): Promise<void> {
    const tokens = batch.reduce((n, p) => n + p.tokens, 0);
    batchEvents.observe(batch.length);
    batchTokens.observe(tokens);
    const lane = tokens > this.options.maxTokens ? this.heavyInference : this.inference;
    for (let attempt = 1; ; attempt++) {
      try {
        const outcomes = await lane.infer(batch.map((p) => p.item));
        batch.forEach((p, i) => p.resolve(outcomes[i]!));
        return;
      } catch (error) {
        // Retriable (encoder queue full, worker restarting): back off and run the batch again.
        if (!isRetriable(error) || attempt >= 8) {
          batch.forEach((p) => p.reject(error));
          return;
        }
        this.onRetry(error, attempt);
        await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
