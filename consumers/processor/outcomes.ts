/**
 * The processor's message path without Kafka: a message becomes an outcome (a valid event to run,
 * or a dead letter), outcomes become the messages of each output topic, and a tally of what to
 * count. Pure apart from the codec functions it is given.
 */
import type { KafkaMessage, Message } from 'kafkajs';
import { deadLetterCodes } from '../../common/error-codes';
import { InvalidMessageError, type MessageOrigin } from '../../common/errors';
import type { TaskName } from '../../common/tasks';
import type { PredictOutput } from '../../model/types';
import type { TopicKind } from '../../schemas/catalog';
import type { TextEvent } from '../../schemas/generated/text';
import { estimateTokens } from './batcher';
import { deadLetter, type Stage } from './dead-letters';
import { resultEvents, type ModelIdentity } from './results';
import type { TopicMessages } from './transactions';
import { checkEvent, headerBytes, type EventLimits } from './validate-event';

export type DeadOutcome = { kind: 'dead'; code: string; reason: string; stage: Stage; eventId: string | null };
/** `model`: the version that computed the output (each result carries it as modelVersion). */
export type Outcome = { kind: 'results'; event: TextEvent; tasks: TaskName[]; output: PredictOutput; model: ModelIdentity } | DeadOutcome;

/** A message that passed decoding and validation: what to hand to the micro-batcher. */
export interface ValidEvent {
  kind: 'valid';
  event: TextEvent;
  tasks: TaskName[];
  /** Estimated encoder tokens (the batcher's budget). */
  tokens: number;
}

export interface PrepareContext {
  decode(value: Buffer | null, origin: MessageOrigin): Promise<TextEvent>;
  defaultTasks: readonly TaskName[];
  limits: EventLimits;
  maxHeaderBytes: number;
}

/** The outcome of a message that goes to the dead-letter topic. */
export const deadOutcome = (code: string, reason: string, stage: Stage, eventId: string | null = null): DeadOutcome => ({
  kind: 'dead',
  code,
  reason,
  stage,
  eventId,
});
const dead = deadOutcome;

/** The key of an event in a batch's `seenIds`: ids are unique per tenant (no tenant is its own). */
export function batchIdKey(tenant: string | null, id: string): string {
  return `${tenant ?? ''}\u0000${id}`;
}

/**
 * Decodes and validates one message of a partition batch, in offset order: `seenIds` holds the keys
 * (batchIdKey) of the batch's earlier messages (policy: ids are unique per tenant and partition batch; a repeat is
 * dead-lettered, the first is processed). Never throws for bad input; rethrows what is not an
 * InvalidMessageError (the registry unreachable: the batch is retried).
 */
export async function prepareMessage(
  message: KafkaMessage,
  origin: MessageOrigin,
  seenIds: Set<string>,
  context: PrepareContext,
): Promise<ValidEvent | DeadOutcome> {
  const headers = headerBytes(message.headers);
  if (headers > context.maxHeaderBytes)
    return dead(deadLetterCodes.HEADERS_TOO_LARGE, `headers are ${headers} bytes; the limit is ${context.maxHeaderBytes}`, 'decode');
  let event: TextEvent;
  try {
    event = await context.decode(message.value, origin);
  } catch (error) {
    if (error instanceof InvalidMessageError) return dead(error.code, error.reason, 'decode');
    throw error;
  }
  const check = checkEvent(event, context.defaultTasks, context.limits);
  if (!check.ok) return dead(check.code, check.reason, 'validate', event.id);
  // Policy: ids are unique per tenant and partition batch; a repeat in the same batch is dead-lettered, the first is processed.
  const tenantId = batchIdKey(event.tenant, event.id);
  if (seenIds.has(tenantId))
    return dead(
      deadLetterCodes.DUPLICATE_ID,
      `id ${JSON.stringify(event.id)} appears earlier in the same batch; only the first is processed`,
      'validate',
      event.id,
    );
  seenIds.add(tenantId);
  const wantsTextPass = check.tasks.some((t) => t !== 'answers');
  const questions = check.tasks.includes('answers') ? event.questions : [];
  return { kind: 'valid', event, tasks: check.tasks, tokens: estimateTokens(event.text, questions, wantsTextPass) };
}

/** The dead-letter outcome of an event the model refused. */
export function inferenceFailed(event: TextEvent, code: string, reason: string): DeadOutcome {
  return dead(code, reason, 'infer', event.id);
}

export interface EncodeContext {
  encode<K extends TopicKind>(kind: K, event: never): Promise<Buffer>;
  /** Topic names by kind (the config's `topics`). */
  topics: Record<'dlq' | TaskName, string>;
  includeText: boolean;
  /** Largest result event kept with its copy of the input text. */
  maxResultBytes: number;
}

/**
 * The messages a partition batch produces, by topic: each dead outcome's dead letter (with the
 * original key, value and headers), each valid one's result per task (keyed by the event's key,
 * else its id; the input text dropped from a result that would not fit one Kafka message).
 * `outcomes[i]` belongs to `messages[i]`.
 */
export async function encodeOutcomes(
  messages: readonly KafkaMessage[],
  outcomes: readonly Outcome[],
  source: { topic: string; partition: number },
  context: EncodeContext,
  processedAt: number,
): Promise<TopicMessages[]> {
  const byTopic = new Map<string, Message[]>();
  const push = (topic: string, message: Message): void => {
    const list = byTopic.get(topic) ?? [];
    list.push(message);
    byTopic.set(topic, list);
  };
  for (const [i, outcome] of outcomes.entries()) {
    const message = messages[i]!;
    if (outcome.kind === 'dead') {
      const raw = { ...source, offset: message.offset, key: message.key, value: message.value, headers: message.headers };
      const letter = deadLetter(raw, outcome.code, outcome.reason, outcome.stage, outcome.eventId, processedAt);
      push(context.topics.dlq, { key: message.key, value: await context.encode('dlq', letter as never) });
      continue;
    }
    const key = outcome.event.key ?? outcome.event.id;
    for (const result of resultEvents(outcome.event, outcome.tasks, outcome.output, outcome.model, context.includeText, processedAt)) {
      let value = await context.encode(result.kind, result.event as never);
      // A result must fit in one Kafka message; the copy of the input text is what can make it too big.
      if (value.length > context.maxResultBytes && 'text' in result.event && result.event.text !== null) {
        value = await context.encode(result.kind, { ...result.event, text: null } as never);
      }
      push(context.topics[result.kind], { key, value, headers: { 'trace-id': outcome.event.id } });
    }
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}

/** What a committed partition batch adds to the metrics and the dead-letter guard. */
export interface OutcomeTally {
  deadLetters: Array<{ code: string; stage: Stage }>;
  results: TaskName[];
  /** Seconds from each valid event's createdAt to `now` (never negative). */
  endToEndSeconds: number[];
  /** Per outcome in order: its dead-letter code, or null for a processed event (the guard's window). */
  guard: Array<string | null>;
}

export function tallyOutcomes(outcomes: readonly Outcome[], now: number): OutcomeTally {
  const tally: OutcomeTally = { deadLetters: [], results: [], endToEndSeconds: [], guard: [] };
  for (const outcome of outcomes) {
    if (outcome.kind === 'dead') {
      tally.deadLetters.push({ code: outcome.code, stage: outcome.stage });
      tally.guard.push(outcome.code);
    } else {
      tally.results.push(...outcome.tasks);
      tally.endToEndSeconds.push(Math.max(0, now - outcome.event.createdAt) / 1000);
      tally.guard.push(null);
    }
  }
  return tally;
}
