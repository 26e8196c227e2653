/**
 * Classifies kafkajs errors by their protocol type/code (never by message text). kafkajs wraps the
 * broker's error in retry and aggregate errors, so the whole chain (`cause`, `originalError`,
 * `errors`) is searched.
 */

/** Broker error codes meaning another producer instance now holds this transactional id (or the coordinator expired ours). */
const FENCING = new Map<string, number>([
  ['INVALID_PRODUCER_EPOCH', 47],
  ['INVALID_PRODUCER_ID_MAPPING', 49],
  ['PRODUCER_FENCED', 90],
]);
const FENCING_CODES = new Set(FENCING.values());

interface ErrorLike {
  type?: unknown;
  code?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** Every error in the chain of `error`, itself first (bounded, cycle-safe). */
export function errorChain(error: unknown, limit = 16): ErrorLike[] {
  const out: ErrorLike[] = [];
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < limit) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const like = e as ErrorLike;
    out.push(like);
    queue.push(like.originalError, like.cause);
    if (Array.isArray(like.errors)) queue.push(...like.errors);
  }
  return out;
}

/** True when the broker fenced this producer: a newer instance of its transactional id exists, or its transaction was expired. */
export function isProducerFenced(error: unknown): boolean {
  return errorChain(error).some(
    (e) => (typeof e.type === 'string' && FENCING.has(e.type)) || (typeof e.code === 'number' && FENCING_CODES.has(e.code)),
  );
}

/** Broker answers that refuse the records themselves: sending them again cannot help. */
const REFUSED_RECORDS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_REQUIRED_ACKS',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
]);

/**
 * True for failures a later attempt can get past: the broker unreachable or restarting, leadership
 * moving, kafkajs's own retries exhausted on those. False when the broker refused the records, and
 * for errors that say they are not retriable (a bad schema, an invalid record of ours).
 */
export function isTransientKafkaError(error: unknown): boolean {
  const chain = errorChain(error);
  if (chain.some((e) => typeof e.type === 'string' && REFUSED_RECORDS.has(e.type))) return false;
  return chain.some((e) => {
    const { name, retriable } = e as { name?: unknown; retriable?: unknown };
    return (
      retriable === true ||
      (typeof name === 'string' &&
        (name === 'KafkaJSNumberOfRetriesExceeded' ||
          /^KafkaJS(Connection|ConnectionClosed|RequestTimeout|BrokerNotFound|NoBrokerAvailable|Lock|Timeout)/.test(name)))
    );
  });
}
