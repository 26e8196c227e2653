/**
 * Delivery of one batch with a deadline, like librdkafka's delivery.timeout.ms: the same batch is
 * sent again (through the same idempotent producer, so the broker drops what already arrived)
 * until it is acknowledged or `deliveryTimeoutMs` has passed since its first attempt. A broker
 * restart takes tens of seconds; kafkajs alone gives up after ~15 s of retries.
 */
import { TridentError } from '../common/errors';
import { isTransientKafkaError } from '../common/kafka-errors';

export interface DeliveryOptions {
  deliveryTimeoutMs: number;
  /** First wait between attempts; doubles up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (error: unknown, attempt: number, elapsedMs: number) => void;
}

export class DeliveryTimeoutError extends TridentError {
  constructor(
    readonly elapsedMs: number,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      'DELIVERY_TIMEOUT',
      `not acknowledged after ${Math.round(elapsedMs / 1000)} s and ${attempts} attempts (producer.deliveryTimeoutMs): ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}

/** Runs `send` until it resolves or the delivery timeout passes. @throws DeliveryTimeoutError */
export async function deliver(send: () => Promise<void>, options: DeliveryOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  let backoff = options.backoffMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return;
    } catch (error) {
      const elapsed = now() - started;
      if (!isTransientKafkaError(error) || elapsed + backoff > options.deliveryTimeoutMs) {
        throw isTransientKafkaError(error) ? new DeliveryTimeoutError(elapsed, attempt, error) : error;
      }
      options.onRetry?.(error, attempt, elapsed);
      await sleep(backoff);
      backoff = Math.min(options.maxBackoffMs ?? 5000, backoff * 2);
    }
  }
}
