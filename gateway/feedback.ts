/**
 * Feedback through the gateway: a correction of a displayed result (another label, fixed entity
 * spans, the answer span) becomes a feedback event on the feedback topic. The record is checked by
 * the same rules as `trident produce --feedback` (producers/records.ts `toFeedbackEvent`, which
 * applies common/event-validation.ts to the text); the gateway adds what only it can say: who gave
 * the label (`source`, from the token — a client cannot claim one), the tenant binding, and the
 * model version of the result it delivered. Pure except `FeedbackSender.send`.
 */
import { z } from 'zod';
import { DEFAULT_TEXT_EVENT_LIMITS, textEventCodes } from '../common/event-validation';
import type { TaskName } from '../common/tasks';
import type { TridentProducer } from '../producers/producer';
import { toFeedbackEvent, type RecordLimits } from '../producers/records';
import type { FeedbackEvent } from '../schemas/generated/feedback';
import { routeKey } from './tenants';

/** The longest label, head name and model version a correction may carry. */
export const MAX_FEEDBACK_NAME_CHARS = 128;
/** At most this many entity spans in one correction. */
export const MAX_FEEDBACK_ENTITIES = 1_000;
/** At most this many feedback records in one HTTP request. */
export const MAX_FEEDBACK_PER_REQUEST = 100;

/** Codes the gateway adds to the record codes of producers/records.ts and the text rules. */
export const feedbackCodes = {
  /** The record names a tenant other than the token's. */
  TENANT_MISMATCH: 'TENANT_MISMATCH',
  /** The record carries a `source`: the gateway sets it from the token. */
  SOURCE_NOT_ALLOWED: 'SOURCE_NOT_ALLOWED',
} as const;

export interface FeedbackRejection {
  index: number;
  code: string;
  reason: string;
}

/** Who sends: the token's record, as far as feedback needs it. */
export interface FeedbackSender {
  id: string;
  name: string;
  tenant: string;
}

/** `gateway:<tenant>/<token name>`: the label's giver as the learner and `replay --labels` see it. */
export function feedbackSource(token: FeedbackSender): string {
  return `gateway:${token.tenant}/${token.name}`;
}

const name = z.string().trim().min(1).max(MAX_FEEDBACK_NAME_CHARS);
const span = { start: z.number().int().min(0), end: z.number().int().min(0) };

/**
 * The fields a client may send, and their bounds; the label-fits-task rules are toFeedbackEvent's.
 * Strict: a misspelt field (`lable`) is refused rather than silently dropped.
 */
const feedbackRecord = z
  .object({
    id: z.union([z.string().min(1).max(DEFAULT_TEXT_EVENT_LIMITS.maxIdChars), z.number()]).optional(),
    text: z.unknown().optional(),
    task: z.unknown(),
    head: name.nullable().optional(),
    label: name.nullable().optional(),
    entities: z
      .array(z.object({ label: name, ...span }).strict())
      .max(MAX_FEEDBACK_ENTITIES)
      .optional(),
    answer: z
      .object({ question: z.string().min(1).max(DEFAULT_TEXT_EVENT_LIMITS.maxQuestionChars), ...span })
      .strict()
      .nullable()
      .optional(),
    modelVersion: name.nullable().optional(),
    tenant: z.string().nullable().optional(),
    source: z.unknown().optional(),
  })
  .strict();

export type FeedbackCheck = { ok: true; event: FeedbackEvent } | { ok: false; rejection: FeedbackRejection };

/**
 * Validates one correction sent by `token`; pure. `index` names it in the rejection.
 * `knownVersion` is the model version of the result the gateway delivered for (tenant, id, task),
 * when it remembers one: it wins over the client's `modelVersion`.
 */
export function validateFeedback(
  raw: unknown,
  index: number,
  limits: RecordLimits,
  token: FeedbackSender,
  knownVersion?: (id: string, task: TaskName) => string | undefined,
  now = Date.now(),
): FeedbackCheck {
  const reject = (code: string, reason: string): FeedbackCheck => ({ ok: false, rejection: { index, code, reason } });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return reject('INVALID_FIELD', 'expected a JSON object with "id", "text", "task" and the corrected label');
  const parsed = feedbackRecord.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys')
      return reject(
        'INVALID_FIELD',
        `unknown field ${issue.keys
          .slice(0, 3)
          .map((k) => JSON.stringify(k.slice(0, 64)))
          .join(', ')}; a correction has id, text, task, head, label, entities, answer, modelVersion`,
      );
    const field = issue.path.join('.');
    if (field === 'id' && issue.code === 'too_big')
      return reject(textEventCodes.ID_TOO_LONG, `id is longer than ${DEFAULT_TEXT_EVENT_LIMITS.maxIdChars} characters`);
    return reject('INVALID_FIELD', `field "${field}": ${issue.message}`);
  }
  const record = parsed.data;
  if (record.source !== undefined)
    return reject(feedbackCodes.SOURCE_NOT_ALLOWED, `"source" is set by the gateway from the token (${feedbackSource(token)}); omit it`);
  if (record.tenant !== undefined && record.tenant !== null && record.tenant !== token.tenant)
    return reject(
      feedbackCodes.TENANT_MISMATCH,
      `"tenant" is ${JSON.stringify(record.tenant).slice(0, 80)} but this token belongs to tenant ${JSON.stringify(token.tenant)} (omit the field)`,
    );
  const { tenant: _tenant, source: _source, ...fields } = record;
  const checked = toFeedbackEvent(fields, index + 1, limits, feedbackSource(token), now);
  if (!checked.ok) return reject(checked.code, checked.reason);
  const event = checked.event;
  event.modelVersion = knownVersion?.(event.id, event.task as TaskName) ?? event.modelVersion;
  return { ok: true, event };
}

export type FeedbackBatchCheck = { ok: true; events: FeedbackEvent[] } | { ok: false; rejections: FeedbackRejection[] };

/** Validates many corrections, all or nothing (every problem listed). Pure. */
export function validateFeedbackBatch(
  records: readonly unknown[],
  limits: RecordLimits,
  token: FeedbackSender,
  knownVersion?: (id: string, task: TaskName) => string | undefined,
  now = Date.now(),
): FeedbackBatchCheck {
  const events: FeedbackEvent[] = [];
  const rejections: FeedbackRejection[] = [];
  records.forEach((raw, index) => {
    const r = validateFeedback(raw, index, limits, token, knownVersion, now);
    if (r.ok) events.push(r.event);
    else rejections.push(r.rejection);
  });
  return rejections.length > 0 ? { ok: false, rejections } : { ok: true, events };
}

/**
 * The model version of the results this gateway delivered lately, per (tenant, id, task), at most
 * `max` (oldest forgotten first). A correction names the version it corrects; the gateway's own
 * record of it is better than the client's word. Pure.
 */
export class ResultVersions {
  private readonly versions = new Map<string, string>();

  constructor(private readonly max = 100_000) {}

  note(tenant: string, id: string, task: TaskName, modelVersion: unknown): void {
    if (typeof modelVersion !== 'string') return;
    const k = `${routeKey(tenant, id)}\u0000${task}`;
    this.versions.delete(k);
    this.versions.set(k, modelVersion);
    while (this.versions.size > this.max) this.versions.delete(this.versions.keys().next().value as string);
  }

  get(tenant: string, id: string, task: TaskName): string | undefined {
    return this.versions.get(`${routeKey(tenant, id)}\u0000${task}`);
  }

  get size(): number {
    return this.versions.size;
  }
}

/** Sends validated feedback to the feedback topic, keyed by the text's id (its corrections share a partition). */
export class FeedbackProducer {
  constructor(private readonly producer: TridentProducer) {}

  /** Resolves when the broker acknowledged them. @throws on Kafka or registry failure. */
  async send(events: FeedbackEvent[]): Promise<void> {
    await this.producer.send(events.map((event) => ({ kind: 'feedback' as const, event, key: event.id })));
  }
}
