/** Every metric the gateway exports, declared once on the shared registry (common/metrics.ts). */
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../common/metrics';

const registers = [metricsRegistry];

export const gatewayMetrics = {
  sockets: new Gauge({ name: 'trident_gateway_sockets', help: 'Open WebSocket connections (authenticated or not).', registers }),
  authFailures: new Counter({
    name: 'trident_gateway_auth_failures_total',
    help: 'Refused requests and sockets: missing/wrong/revoked token (401/4401), missing scope (403), by transport and reason.',
    labelNames: ['transport', 'reason'] as const,
    registers,
  }),
  clientMessages: new Counter({
    name: 'trident_gateway_client_messages_total',
    help: 'WebSocket messages received from clients, by type (invalid ones as "invalid").',
    labelNames: ['type'] as const,
    registers,
  }),
  protocolErrors: new Counter({
    name: 'trident_gateway_protocol_errors_total',
    help: 'Error replies sent to clients, by code.',
    labelNames: ['code'] as const,
    registers,
  }),
  rateLimited: new Counter({
    name: 'trident_gateway_rate_limited_total',
    help: 'Requests refused by the per-token rate limit, by transport.',
    labelNames: ['transport'] as const,
    registers,
  }),
  submitted: new Counter({
    name: 'trident_gateway_submitted_texts_total',
    help: 'Texts accepted and sent to the text topic, by transport.',
    labelNames: ['transport'] as const,
    registers,
  }),
  feedbackAccepted: new Counter({
    name: 'trident_gateway_feedback_accepted_total',
    help: 'Corrections validated and sent to the feedback topic, by transport and task.',
    labelNames: ['transport', 'task'] as const,
    registers,
  }),
  feedbackRejected: new Counter({
    name: 'trident_gateway_feedback_rejected_total',
    help: 'Corrections refused as invalid (nothing sent), by transport and code.',
    labelNames: ['transport', 'code'] as const,
    registers,
  }),
  resultsConsumed: new Counter({
    name: 'trident_gateway_results_consumed_total',
    help: 'Result events read from the result topics, by task.',
    labelNames: ['task'] as const,
    registers,
  }),
  resultsRepeated: new Counter({
    name: 'trident_gateway_results_repeated_total',
    help: 'Repeats of a result already delivered (same topic, tenant and id; processor.delivery at-least-once after a crash), dropped, by task.',
    labelNames: ['task'] as const,
    registers,
  }),
  resultsInvalid: new Counter({
    name: 'trident_gateway_results_invalid_total',
    help: 'Result events that could not be decoded (skipped), by code.',
    labelNames: ['code'] as const,
    registers,
  }),
  delivered: new Counter({
    name: 'trident_gateway_results_delivered_total',
    help: 'Result frames queued to WebSocket clients, by task.',
    labelNames: ['task'] as const,
    registers,
  }),
  dropped: new Counter({
    name: 'trident_gateway_results_dropped_total',
    help: 'Result frames not delivered because a client’s send queue was full.',
    registers,
  }),
  slowDisconnects: new Counter({
    name: 'trident_gateway_slow_client_disconnects_total',
    help: 'Sockets closed because they fell behind (slowClientPolicy=disconnect).',
    registers,
  }),
  deadPeers: new Counter({
    name: 'trident_gateway_dead_peers_total',
    help: 'Sockets terminated for not answering a heartbeat ping.',
    registers,
  }),
  queuedFrames: new Gauge({ name: 'trident_gateway_queued_frames', help: 'Frames waiting in all clients’ send queues.', registers }),
  httpRequests: new Counter({
    name: 'trident_gateway_http_requests_total',
    help: 'HTTP requests, by route and status.',
    labelNames: ['route', 'status'] as const,
    registers,
  }),
  deliveryLatency: new Histogram({
    name: 'trident_gateway_result_age_seconds',
    help: 'Age of a result (now - processedAt) when the gateway routes it.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
};
