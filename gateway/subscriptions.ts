/**
 * Which results a socket receives. Pure: a subscription is a filter over (task, result); a socket's
 * subscriptions are a small set with a limit. The hub indexes sockets by task and asks `wants`.
 */
import { builtInTasks, type TaskName } from '../common/tasks';

export interface ResultIdentity {
  id: string;
  key: string | null;
  /** null or absent: the default tenant. */
  tenant?: string | null;
}

export interface SubscriptionFilter {
  tasks: ReadonlySet<TaskName>;
  /** Only results with one of these keys (absent: any key). */
  keys?: ReadonlySet<string>;
  /** Only results for these input ids (absent: any id). */
  ids?: ReadonlySet<string>;
  /** Only results of texts the socket itself submitted. */
  own: boolean;
}

export interface SubscriptionSpec {
  tasks?: readonly TaskName[];
  keys?: readonly string[];
  ids?: readonly string[];
  own?: boolean;
}

export function toFilter(spec: SubscriptionSpec): SubscriptionFilter {
  return {
    tasks: new Set(spec.tasks && spec.tasks.length > 0 ? spec.tasks : builtInTasks),
    keys: spec.keys ? new Set(spec.keys) : undefined,
    ids: spec.ids ? new Set(spec.ids) : undefined,
    own: spec.own ?? false,
  };
}

/** Does one subscription want this result? `isOwn`: the socket submitted the result's input. */
export function matches(filter: SubscriptionFilter, task: TaskName, result: ResultIdentity, isOwn: boolean): boolean {
  if (!filter.tasks.has(task)) return false;
  if (filter.keys && (result.key === null || !filter.keys.has(result.key))) return false;
  if (filter.ids && !filter.ids.has(result.id)) return false;
  if (filter.own && !isOwn) return false;
  return true;
}

export type AddResult = { ok: true; id: string } | { ok: false; reason: 'limit' | 'duplicate' };

/** One socket's subscriptions, at most `max` of them. */
export class SubscriptionSet {
  private readonly byId = new Map<string, SubscriptionFilter>();
  private nextId = 1;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.byId.size;
  }

  add(filter: SubscriptionFilter, id?: string): AddResult {
    if (id !== undefined && this.byId.has(id)) return { ok: false, reason: 'duplicate' };
    if (this.byId.size >= this.max) return { ok: false, reason: 'limit' };
    let chosen = id;
    while (chosen === undefined || this.byId.has(chosen)) chosen = `s${this.nextId++}`;
    this.byId.set(chosen, filter);
    return { ok: true, id: chosen };
  }

  remove(id: string): boolean {
    return this.byId.delete(id);
  }

  /** The tasks any subscription covers (the hub's index). */
  tasks(): Set<TaskName> {
    const out = new Set<TaskName>();
    for (const f of this.byId.values()) for (const t of f.tasks) out.add(t);
    return out;
  }

  /** True when at least one subscription wants the result. */
  wants(task: TaskName, result: ResultIdentity, isOwn: boolean): boolean {
    for (const f of this.byId.values()) if (matches(f, task, result, isOwn)) return true;
    return false;
  }
}
