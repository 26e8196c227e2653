/**
 * Submitting texts: the same validation as `trident produce` and the processor
 * (common/event-validation.ts), all-or-nothing per request, then one idempotent send to the text
 * topic. Whatever the processor would dead-letter is refused here with the same code, where the
 * client can still fix it (and cannot trip the processor's dead-letter guard with it).
 */
import type { TridentConfig } from '../common/config';
import { deadLetterCodes } from '../common/event-validation';
import { isTaskName, type TaskName } from '../common/tasks';
import { keyOf, type TridentProducer } from '../producers/producer';
import { toTextEvent } from '../producers/records';
import type { TextEvent } from '../schemas/generated/text';
import { routeKey } from './tenants';

/** How long a sent (tenant, id) counts as recent: a repeat in this window is refused as DUPLICATE_ID. */
export const RECENT_ID_WINDOW_MS = 60_000;
export const RECENT_ID_MAX = 100_000;

/**
 * The (tenant, id) pairs sent in the last `windowMs`, at most `max` (oldest forgotten first). The
 * processor dead-letters an id repeated within one partition batch; the gateway cannot know the
 * batches, so it refuses a repeat within a window instead. Pure (injected clock).
 */
export class RecentIds {
  private readonly sentAt = new Map<string, number>();

  constructor(
    private readonly windowMs = RECENT_ID_WINDOW_MS,
    private readonly max = RECENT_ID_MAX,
    private readonly now: () => number = Date.now,
  ) {}

  has(tenant: string, id: string): boolean {
    this.prune();
    return this.sentAt.has(routeKey(tenant, id));
  }

  add(tenant: string, ids: readonly string[]): void {
    const t = this.now();
    for (const id of ids) {
      const k = routeKey(tenant, id);
      this.sentAt.delete(k);
      this.sentAt.set(k, t);
    }
    while (this.sentAt.size > this.max) this.sentAt.delete(this.sentAt.keys().next().value as string);
  }

  private prune(): void {
    const oldest = this.now() - this.windowMs;
    for (const [k, t] of this.sentAt) {
      if (t > oldest) break;
      this.sentAt.delete(k);
    }
  }
}

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
export function validateTexts(
  records: readonly unknown[],
  limits: TridentConfig['producer'],
  tenant: string,
  recent?: RecentIds,
  now = Date.now(),
): ValidateResult {
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
      rejections.push({
        index,
        code: 'TENANT_MISMATCH',
        reason: `"tenant" is ${JSON.stringify(r.event.tenant).slice(0, 80)} but this token belongs to tenant ${JSON.stringify(tenant)} (omit the field)`,
      });
      return;
    }
    r.event.tenant = tenant;
    if (seen.has(r.event.id)) {
      rejections.push({
        index,
        code: deadLetterCodes.DUPLICATE_ID,
        reason: `id ${JSON.stringify(r.event.id)} appears twice in this request`,
      });
      return;
    }
    if (recent?.has(tenant, r.event.id)) {
      rejections.push({
        index,
        code: deadLetterCodes.DUPLICATE_ID,
        reason: `id ${JSON.stringify(r.event.id)} was submitted less than ${RECENT_ID_WINDOW_MS / 1000} s ago; use a new id`,
      });
      return;
    }
    seen.add(r.event.id);
    events.push(r.event);
  });
  return rejections.length > 0 ? { ok: false, rejections } : { ok: true, events };
}

/** The tasks whose results a submitted event will get (answers only with questions). */
export function expectedTasks(event: TextEvent, defaultTasks: readonly TaskName[]): TaskName[] {
  const tasks = (event.tasks ?? defaultTasks).filter(isTaskName);
  return [...new Set(tasks)].filter((t) => t !== 'answers' || event.questions.length > 0);
}

export class Submitter {
  /** What this gateway sent lately, per tenant (see RecentIds). */
  readonly recent = new RecentIds();

  constructor(private readonly producer: TridentProducer) {}

  /** Sends validated events of one tenant; resolves when the broker acknowledged them. @throws on Kafka or registry failure. */
  async send(events: TextEvent[]): Promise<void> {
    await this.producer.send(events.map((event) => ({ kind: 'text' as const, event, key: keyOf(event) })));
    for (const e of events) this.recent.add(e.tenant ?? '', [e.id]);
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
