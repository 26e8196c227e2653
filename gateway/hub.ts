/**
 * Routes each result to the sockets that want it and to HTTP requests waiting for it. Each result
 * is serialised once and the same frame is queued to every socket (each with its own bounded
 * queue), so one slow socket costs the others nothing. Synchronous; no I/O.
 */
import type { TaskName } from '../common/tasks';
import { resultFrame } from './protocol';
import type { ResultIdentity } from './subscriptions';
import { gatewayMetrics } from './metrics';

/** What the hub needs from a socket's session. */
export interface Subscriber {
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
  private readonly byTask = new Map<TaskName, Set<Subscriber>>();
  /** Input id → sockets that submitted it (results are routed back to them). */
  private readonly owners = new Map<string, Set<Subscriber>>();
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** Re-indexes a subscriber after its subscriptions changed. */
  index(subscriber: Subscriber, tasks: ReadonlySet<TaskName>): void {
    for (const [task, set] of this.byTask) if (!tasks.has(task)) set.delete(subscriber);
    for (const task of tasks) {
      let set = this.byTask.get(task);
      if (!set) this.byTask.set(task, (set = new Set()));
      set.add(subscriber);
    }
  }

  own(id: string, subscriber: Subscriber): void {
    let set = this.owners.get(id);
    if (!set) this.owners.set(id, (set = new Set()));
    set.add(subscriber);
  }

  disown(id: string, subscriber: Subscriber): void {
    const set = this.owners.get(id);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) this.owners.delete(id);
  }

  /** Forgets a subscriber everywhere except its owned ids (the session disowns those itself). */
  remove(subscriber: Subscriber): void {
    for (const set of this.byTask.values()) set.delete(subscriber);
  }

  /** Routes one result. Returns how many sockets it was queued to. */
  dispatch(task: TaskName, result: ResultIdentity & Record<string, unknown>): number {
    let frame: string | undefined;
    let size = 0;
    let sent = 0;
    const owners = this.owners.get(result.id);
    const deliver = (s: Subscriber) => {
      if (frame === undefined) {
        frame = resultFrame(task, result);
        size = Buffer.byteLength(frame, 'utf8');
      }
      s.deliver(frame, size);
      sent += 1;
    };
    if (owners) for (const s of owners) deliver(s);
    const subscribed = this.byTask.get(task);
    if (subscribed) {
      for (const s of subscribed) {
        if (owners?.has(s)) continue;
        if (s.wants(task, result, false)) deliver(s);
      }
    }
    if (sent > 0) gatewayMetrics.delivered.inc({ task }, sent);
    this.settleWaiters(task, result);
    return sent;
  }

  /**
   * Waits for the results of submitted ids (`expected`: id → tasks), at most `timeoutMs`. Register
   * before sending the texts, so a fast result is not missed.
   */
  wait(expected: Map<string, TaskName[]>, timeoutMs: number): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        pending: new Map([...expected].filter(([, tasks]) => tasks.length > 0).map(([id, tasks]) => [id, new Set(tasks)])),
        results: Object.fromEntries([...expected.keys()].map((id) => [id, {}])),
        done: (outcome) => {
          clearTimeout(waiter.timer);
          for (const id of expected.keys()) {
            const set = this.waiters.get(id);
            set?.delete(waiter);
            if (set?.size === 0) this.waiters.delete(id);
          }
          resolve(outcome);
        },
        timer: setTimeout(() => waiter.done({ results: waiter.results, complete: waiter.pending.size === 0 }), timeoutMs),
      };
      if (waiter.pending.size === 0) return waiter.done({ results: waiter.results, complete: true });
      for (const id of expected.keys()) {
        let set = this.waiters.get(id);
        if (!set) this.waiters.set(id, (set = new Set()));
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

  private settleWaiters(task: TaskName, result: ResultIdentity): void {
    const set = this.waiters.get(result.id);
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
