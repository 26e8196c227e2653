/**
 * Every metric Trident exports is declared here, once, on one prom-client registry. Stages import
 * the metric objects; nobody creates metrics elsewhere.
 */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
let defaultsCollected = false;

/** Adds process metrics (RSS, event-loop lag, GC) once; call from long-running processes only. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'trident_' });
}

export const producedEvents = new Counter({
  name: 'trident_producer_events_total',
  help: 'Events sent by the Trident producer, by topic.',
  labelNames: ['topic'] as const,
  registers: [metricsRegistry],
});

export const rejectedInputs = new Counter({
  name: 'trident_producer_rejected_total',
  help: 'Input records the producer refused before sending, by error code.',
  labelNames: ['code'] as const,
  registers: [metricsRegistry],
});
