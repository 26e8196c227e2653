/**
 * Routes each result to the sockets that want it and to HTTP requests waiting for it. Each result
 * is serialised once and the same frame is queued to every socket (each with its own bounded
 * queue), so one slow socket costs the others nothing. Synchronous; no I/O.
 *
 * Tenant isolation lives here: subscribers are indexed by (task, tenant scope), owned ids and waits
 * by (tenant, id), so a result reaches only its own tenant's sockets and the `admin` ones.
 */
import type { TaskName } from '../common/tasks';
import { resultFrame } from './protocol';
import type { ResultIdentity } from './subscriptions';
import { gatewayMetrics } from './metrics';
import { ALL_TENANTS, routeKey, tenantOf } from './tenants';

/** What the hub needs from a socket's session. */
export interface Subscriber {
  /** The tenant whose results it may receive, or ALL_TENANTS (`admin`). Fixed once indexed. */
  readonly tenantScope: string;
  /** Does any of its subscriptions want this result? */
  wants(task: TaskName, result: ResultIdentity, isOwn: boolean): boolean;
  /** Queues a frame (never blocks; a full queue drops it and notes a lag). */
  deliver(frame: string, size: number): void;
}

export interface WaitOutcome {
  results: Record<string, Partial<Record<TaskName, unknown>>>;
  complete: boolean;
}

interface Waiter {
  pending: Map<string, Set<TaskName>>;
  results: Record<string, Partial<Record<TaskName, unknown>>>;
  done: (outcome: WaitOutcome) => void;
  timer: NodeJS.Timeout;
}

export class Hub {
  /** Task → tenant scope → subscribed sockets. */
  private readonly byTask = new Map<TaskName, Map<string, Set<Subscriber>>>();
  /** (tenant, input id) → sockets that submitted it (results are routed back to them). */
  private readonly owners = new Map<string, Set<Subscriber>>();
  /** (tenant, input id) → HTTP requests waiting for its results. */
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** Re-indexes a subscriber after its subscriptions changed. */
  index(subscriber: Subscriber, tasks: ReadonlySet<TaskName>): void {
    for (const [task, byTenant] of this.byTask) if (!tasks.has(task)) this.unindex(byTenant, subscriber);
    for (const task of tasks) {
      let byTenant = this.byTask.get(task);
      if (!byTenant) this.byTask.set(task, (byTenant = new Map()));
      let set = byTenant.get(subscriber.tenantScope);
      if (!set) byTenant.set(subscriber.tenantScope, (set = new Set()));
      set.add(subscriber);
    }
  }

  own(tenant: string, id: string, subscriber: Subscriber): void {
    const k = routeKey(tenant, id);
    let set = this.owners.get(k);
    if (!set) this.owners.set(k, (set = new Set()));
    set.add(subscriber);
  }

  disown(tenant: string, id: string, subscriber: Subscriber): void {
    const k = routeKey(tenant, id);
    const set = this.owners.get(k);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) this.owners.delete(k);
  }

  /** Forgets a subscriber everywhere except its owned ids (the session disowns those itself). */
  remove(subscriber: Subscriber): void {
    for (const byTenant of this.byTask.values()) this.unindex(byTenant, subscriber);
  }

  private unindex(byTenant: Map<string, Set<Subscriber>>, subscriber: Subscriber): void {
    const set = byTenant.get(subscriber.tenantScope);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) byTenant.delete(subscriber.tenantScope);
  }

  /** Routes one result. Returns how many sockets it was queued to. */
  dispatch(task: TaskName, result: ResultIdentity & Record<string, unknown>): number {
    let frame: string | undefined;
    let size = 0;
    let sent = 0;
    const tenant = tenantOf(result);
    const key = routeKey(tenant, result.id);
    const owners = this.owners.get(key);
    const deliver = (s: Subscriber) => {
      if (frame === undefined) {
        frame = resultFrame(task, result);
        size = Buffer.byteLength(frame, 'utf8');
      }
      s.deliver(frame, size);
      sent += 1;
    };
    if (owners) for (const s of owners) deliver(s);
    const byTenant = this.byTask.get(task);
    if (byTenant) {
      for (const scope of tenant === ALL_TENANTS ? [ALL_TENANTS] : [tenant, ALL_TENANTS]) {
        const subscribed = byTenant.get(scope);
        if (!subscribed) continue;
        for (const s of subscribed) {
          if (owners?.has(s)) continue;
          if (s.wants(task, result, false)) deliver(s);
        }
      }
    }
    if (sent > 0) gatewayMetrics.delivered.inc({ task }, sent);
    this.settleWaiters(task, key, result);
    return sent;
  }

  /**
   * Waits for the results of ids submitted by `tenant` (`expected`: id → tasks), at most
   * `timeoutMs`. Register before sending the texts, so a fast result is not missed.
   */
  wait(tenant: string, expected: Map<string, TaskName[]>, timeoutMs: number): Promise<WaitOutcome> {
    const keys = [...expected.keys()].map((id) => routeKey(tenant, id));
    return new Promise((resolve) => {
      const waiter: Waiter = {
        pending: new Map([...expected].filter(([, tasks]) => tasks.length > 0).map(([id, tasks]) => [id, new Set(tasks)])),
        results: Object.fromEntries([...expected.keys()].map((id) => [id, {}])),
        done: (outcome) => {
          clearTimeout(waiter.timer);
          for (const k of keys) {
            const set = this.waiters.get(k);
            set?.delete(waiter);
            if (set?.size === 0) this.waiters.delete(k);
          }
          resolve(outcome);
        },
        timer: setTimeout(() => waiter.done({ results: waiter.results, complete: waiter.pending.size === 0 }), timeoutMs),
      };
      if (waiter.pending.size === 0) return waiter.done({ results: waiter.results, complete: true });
      for (const k of keys) {
        let set = this.waiters.get(k);
        if (!set) this.waiters.set(k, (set = new Set()));
        set.add(waiter);
      }
    });
  }

  /** Ends every wait now with what has arrived (shutdown). */
  cancelWaits(): void {
    const all = new Set<Waiter>();
    for (const set of this.waiters.values()) for (const w of set) all.add(w);
    for (const w of all) w.done({ results: w.results, complete: w.pending.size === 0 });
  }

  private settleWaiters(task: TaskName, key: string, result: ResultIdentity): void {
    const set = this.waiters.get(key);
    if (!set) return;
    for (const w of [...set]) {
      const entry = w.results[result.id];
      if (entry) entry[task] = result;
      const pending = w.pending.get(result.id);
      if (pending) {
        pending.delete(task);
        if (pending.size === 0) w.pending.delete(result.id);
      }
      if (w.pending.size === 0) w.done({ results: w.results, complete: true });
    }
  }
}
