/**
 * Submitting texts: the same validation as `trident produce` (producers/records.ts), all-or-nothing
 * per request, then one idempotent send to the text topic.
 */
import type { TridentConfig } from '../common/config';
import { keyOf, type TridentProducer } from '../producers/producer';
import { builtInTasks, toTextEvent, type TaskName } from '../producers/records';
import type { TextEvent } from '../schemas/generated/text';

export interface Rejection {
  index: number;
  code: string;
  reason: string;
}

export type ValidateResult = { ok: true; events: TextEvent[] } | { ok: false; rejections: Rejection[] };

/**
 * Validates records submitted by a token of `tenant`; pure. `records[i]` is reported as index i.
 * Every event gets the token's tenant; a record naming another tenant is refused (TENANT_MISMATCH)
 * rather than silently moved, so a client that assumed otherwise finds out.
 */
export function validateTexts(records: readonly unknown[], limits: TridentConfig['producer'], tenant: string, now = Date.now()): ValidateResult {
  const events: TextEvent[] = [];
  const rejections: Rejection[] = [];
  const seen = new Set<string>();
  records.forEach((raw, index) => {
    const r = toTextEvent(raw, index + 1, limits, {}, now);
    if (!r.ok) {
      rejections.push({ index, code: r.code, reason: r.reason });
      return;
    }
    if (r.event.tenant !== null && r.event.tenant !== tenant) {
      rejections.push({ index, code: 'TENANT_MISMATCH', reason: `"tenant" is ${JSON.stringify(r.event.tenant).slice(0, 80)} but this token belongs to tenant ${JSON.stringify(tenant)} (omit the field)` });
      return;
    }
    r.event.tenant = tenant;
    // The processor dead-letters these; refuse them here, where the client can still fix them.
    if (r.event.tasks?.includes('answers') && r.event.questions.length === 0) {
      rejections.push({ index, code: 'ANSWERS_WITHOUT_QUESTIONS', reason: 'the answers task needs at least one question' });
      return;
    }
    if (seen.has(r.event.id)) {
      rejections.push({ index, code: 'DUPLICATE_ID', reason: `id ${JSON.stringify(r.event.id)} appears twice in this request` });
      return;
    }
    seen.add(r.event.id);
    events.push(r.event);
  });
  return rejections.length > 0 ? { ok: false, rejections } : { ok: true, events };
}

/** The tasks whose results a submitted event will get (answers only with questions). */
export function expectedTasks(event: TextEvent, defaultTasks: readonly TaskName[]): TaskName[] {
  const tasks = (event.tasks ?? defaultTasks).filter((t): t is TaskName => (builtInTasks as readonly string[]).includes(t));
  return [...new Set(tasks)].filter((t) => t !== 'answers' || event.questions.length > 0);
}

export class Submitter {
  constructor(private readonly producer: TridentProducer) {}

  /** Sends validated events; resolves when the broker acknowledged them. @throws on Kafka or registry failure. */
  async send(events: TextEvent[]): Promise<void> {
    await this.producer.send(events.map((event) => ({ kind: 'text' as const, event, key: keyOf(event) })));
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
