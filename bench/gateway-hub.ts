/**
 * The cost of tenant-aware routing in the hub, without sockets or Kafka (so a busy machine disturbs
 * it less than the fan-out benchmark): one result dispatched to 1,000 subscribed sockets.
 *
 *   npm run build && node dist/bench/gateway-hub.js [--subscribers 1000] [--results 2000] [--rounds 50]
 *
 * Three routers, interleaved round by round in one process:
 *  - baseline: the routing before tenants, re-created here — one set of sockets per task, each
 *    asked `wants` (results serialised once, the same frame queued to each);
 *  - the hub with every socket in one tenant (every socket gets every result, like the baseline);
 *  - the hub with the sockets in 10 tenants and results spread over them (each gets a tenth).
 * Printed: ns per dispatched result and per delivered frame, and the ratios to the baseline.
 */
import { Hub, type Subscriber } from '../gateway/hub';
import { gatewayMetrics } from '../gateway/metrics';
import { resultFrame } from '../gateway/protocol';
import { SubscriptionSet, toFilter, type ResultIdentity } from '../gateway/subscriptions';
import type { TaskName } from '../common/tasks';
import { args } from './gateway-common';

class Sink implements Subscriber {
  delivered = 0;
  readonly subs = new SubscriptionSet(4);
  constructor(readonly tenantScope: string) {
    this.subs.add(toFilter({ tasks: ['sentiment'] }));
  }
  wants(task: TaskName, result: ResultIdentity, isOwn: boolean): boolean {
    return this.subs.wants(task, result, isOwn);
  }
  deliver(): void {
    this.delivered += 1;
  }
}

/** The pre-tenant routing (gateway/hub.ts before tenants): owners and waits by id, every subscriber of the task asked. */
class FlatRouter {
  private readonly byTask = new Map<TaskName, Set<Sink>>();
  private readonly owners = new Map<string, Set<Sink>>();
  private readonly waiters = new Map<string, Set<unknown>>();
  index(s: Sink): void {
    let set = this.byTask.get('sentiment');
    if (!set) this.byTask.set('sentiment', (set = new Set()));
    set.add(s);
  }
  dispatch(task: TaskName, result: ResultIdentity & Record<string, unknown>): void {
    let frame: string | undefined;
    let sent = 0;
    const owners = this.owners.get(result.id);
    for (const s of this.byTask.get(task) ?? []) {
      if (owners?.has(s)) continue;
      if (!s.wants(task, result, false)) continue;
      frame ??= resultFrame(task, result);
      s.deliver();
      sent += 1;
    }
    if (sent > 0) gatewayMetrics.delivered.inc({ task }, sent);
    void this.waiters.get(result.id);
  }
}

function main(): void {
  const a = args();
  const subscribers = Number(a.get('subscribers') ?? 1000);
  const results = Number(a.get('results') ?? 2_000);
  const rounds = Number(a.get('rounds') ?? 50);
  const result = (i: number, tenant: string | null) => ({
    id: `r-${i}`,
    key: `k-${i}`,
    tenant,
    modelName: 'bench',
    modelVersion: '1',
    createdAt: 0,
    processedAt: 0,
    label: 'positive',
    scores: { positive: 0.9, negative: 0.1 },
  });

  const flatSinks = Array.from({ length: subscribers }, () => new Sink('default'));
  const flat = new FlatRouter();
  for (const s of flatSinks) flat.index(s);
  const oneSinks = Array.from({ length: subscribers }, () => new Sink('default'));
  const one = new Hub();
  for (const s of oneSinks) one.index(s, s.subs.tasks());
  const tenSinks = Array.from({ length: subscribers }, (_, i) => new Sink(`t${i % 10}`));
  const ten = new Hub();
  for (const s of tenSinks) ten.index(s, s.subs.tasks());

  const runs: Record<string, { ns: number; frames: number }> = {
    baseline: { ns: 0, frames: 0 },
    oneTenant: { ns: 0, frames: 0 },
    tenTenants: { ns: 0, frames: 0 },
  };
  const time = (name: string, sinks: Sink[], f: (i: number) => void) => {
    const before = sinks.reduce((n, s) => n + s.delivered, 0);
    const t = process.hrtime.bigint();
    for (let i = 0; i < results; i++) f(i);
    runs[name]!.ns += Number(process.hrtime.bigint() - t);
    runs[name]!.frames += sinks.reduce((n, s) => n + s.delivered, 0) - before;
  };
  for (let r = 0; r < rounds + 1; r++) {
    if (r === 0) {
      // Warm-up round (JIT), not counted.
      for (let i = 0; i < results; i++) flat.dispatch('sentiment', result(i, null));
      for (let i = 0; i < results; i++) one.dispatch('sentiment', result(i, null));
      for (let i = 0; i < results; i++) ten.dispatch('sentiment', result(i, `t${i % 10}`));
      for (const k of Object.keys(runs)) runs[k] = { ns: 0, frames: 0 };
      continue;
    }
    time('baseline', flatSinks, (i) => flat.dispatch('sentiment', result(i, null)));
    time('oneTenant', oneSinks, (i) => one.dispatch('sentiment', result(i, null)));
    time('tenTenants', tenSinks, (i) => ten.dispatch('sentiment', result(i, `t${i % 10}`)));
  }
  const n = results * rounds;
  console.log(`${subscribers} subscribers, ${n} results per router (${rounds} interleaved rounds)`);
  console.log(`${'router'.padEnd(44)} ${'µs/result'.padStart(10)} ${'ns/frame'.padStart(9)} ${'vs baseline'.padStart(12)}`);
  const base = runs.baseline!.ns / n;
  for (const [name, label] of [
    ['baseline', 'baseline: flat set, before tenants'],
    ['oneTenant', 'hub, one tenant (every socket gets all)'],
    ['tenTenants', 'hub, 10 tenants (each gets a tenth)'],
  ] as const) {
    const r = runs[name]!;
    console.log(
      `${label.padEnd(44)} ${(r.ns / n / 1000).toFixed(2).padStart(10)} ${(r.ns / r.frames).toFixed(1).padStart(9)} ${(r.ns / n / base).toFixed(2).padStart(12)}`,
    );
  }
}

main();
