/** The processor's metrics, declared once on the shared registry. */
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../../common/metrics';

const registers = [metricsRegistry];

export const eventsIn = new Counter({
  name: 'trident_processor_events_in_total',
  help: 'Input events consumed.',
  labelNames: ['topic'] as const,
  registers,
});
export const resultsOut = new Counter({
  name: 'trident_processor_results_total',
  help: 'Result events produced, per task.',
  labelNames: ['task'] as const,
  registers,
});
export const deadLetters = new Counter({
  name: 'trident_processor_dead_letters_total',
  help: 'Events sent to the dead-letter topic, per error code.',
  labelNames: ['code', 'stage'] as const,
  registers,
});
export const batchEvents = new Histogram({
  name: 'trident_processor_batch_events',
  help: 'Events per inference micro-batch.',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128],
  registers,
});
export const batchTokens = new Histogram({
  name: 'trident_processor_batch_tokens',
  help: 'Estimated tokens per inference micro-batch.',
  buckets: [64, 256, 1024, 2048, 4096, 8192, 16384],
  registers,
});
export const inferenceSeconds = new Histogram({
  name: 'trident_processor_inference_seconds',
  help: 'Model time per micro-batch.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers,
});
export const endToEndSeconds = new Histogram({
  name: 'trident_processor_end_to_end_seconds',
  help: 'Event createdAt to its results committed.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers,
});
export const partitionLag = new Gauge({
  name: 'trident_processor_partition_lag',
  help: 'Messages behind the high watermark, per input partition.',
  labelNames: ['topic', 'partition'] as const,
  registers,
});
export const commitSeconds = new Histogram({
  name: 'trident_processor_commit_seconds',
  help: 'Time to produce a partition batch’s results and commit its transaction.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers,
});
export const transactions = new Counter({
  name: 'trident_processor_transactions_total',
  help: 'Kafka transactions, by outcome (committed, aborted, fenced; stale: refused, the batch producer was replaced).',
  labelNames: ['outcome'] as const,
  registers,
});
export const inFlightEvents = new Gauge({
  name: 'trident_processor_in_flight_events',
  help: 'Events consumed and not yet committed.',
  registers,
});
export const modelProduction = new Gauge({
  name: 'trident_processor_model_info',
  help: 'The model version this processor serves (value 1; one series per name and version while it serves it).',
  labelNames: ['name', 'version', 'digest'] as const,
  registers,
});
export const modelSwapSeconds = new Histogram({
  name: 'trident_processor_model_swap_seconds',
  help: 'A new production version seen → serving it (fetch, verify, parity, warm-up, switch).',
  buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
  registers,
});
export const modelRefused = new Counter({
  name: 'trident_processor_model_refused_total',
  help: 'Model versions this processor refused to serve, by the check that failed.',
  labelNames: ['reason'] as const,
  registers,
});
