/**
 * Fan-out to 1,000 WebSocket clients on loopback, with and without one client that stops reading.
 *
 *   npm run build && node dist/bench/gateway-fanout.js [--clients 1000] [--rate 10] [--seconds 10] [--rounds 6] [--warmup 5] [--queue 256] [--tenants 1]
 *
 * With `--tenants N` (N > 1) the clients' tokens belong to N tenants (client i to tenant i mod N)
 * and the results go round-robin to the tenants: each client should get exactly its tenant's
 * results (counted per client), and any result of another tenant it receives is counted as a leak.
 *
 * The gateway runs as its own process (`trident gateway`, dist/) on fresh topics; every client
 * subscribes to sentiment. Results are published at a steady rate straight to the result topic, each
 * stamped with `processedAt` just before sending; a client's delivery latency is its receive time
 * minus `processedAt` (Kafka produce + the gateway's read_committed fetch + fan-out + loopback).
 *
 * After a warm-up (not measured), `--rounds` rounds of two phases alternate, so that drift on a shared
 * machine hits both sides alike:
 *  - A (baseline): every client reads.
 *  - B: client 0 stops reading. Before B is measured, a burst of large results that only it subscribes
 *    to fills its socket buffers and its bounded queue, until the gateway drops frames for it
 *    ("lagged"); then the same steady load as A. After B it reads again (catching up, unmeasured).
 * Printed: deliveries, p50/p99/max of the 999 other clients per phase and per round, the ratio of
 * p99(B) to p99(A), the gateway's CPU time and RSS per phase, and what the slow client missed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createKafka } from '../common/kafka';
import { TridentProducer } from '../producers/producer';
import { EventCodec } from '../schemas/codec';
import { args, cpuSeconds, metricSum, percentile, repoRoot, rssMiB, sleep, startGatewayProcess } from './gateway-common';

type Phase = 'W' | 'A' | 'B';

interface Client {
  ws: WebSocket;
  tenant: string;
  /** Results of another tenant it received (must stay 0). */
  foreign: number;
  /** Latencies per measured window, e.g. `A1`, `B1`, `A2`. */
  latencies: Map<string, number[]>;
  window: string | null;
  lagged: number;
}

async function main(): Promise<void> {
  const a = args();
  const clients = Number(a.get('clients') ?? 1000);
  const rate = Number(a.get('rate') ?? 10);
  const seconds = Number(a.get('seconds') ?? 10);
  const rounds = Number(a.get('rounds') ?? 6);
  const queueMax = Number(a.get('queue') ?? 256);
  const tenants = Number(a.get('tenants') ?? 1);
  // One tenant: the default one, and results without a tenant (as before tenants existed).
  const tenantName = (k: number) => (tenants === 1 ? 'default' : `tenant-${k}`);
  const resultTenant = (k: number) => (tenants === 1 ? null : tenantName(k));
  const gw = await startGatewayProcess('fanout', {
    TRIDENT_GATEWAY_MAX_SOCKETS_PER_TOKEN: String(clients + 10),
    TRIDENT_GATEWAY_SEND_QUEUE_MAX: String(queueMax),
    TRIDENT_GATEWAY_REQUESTS_PER_MINUTE_PER_TOKEN: '100000',
  });
  const tokenOf = Array.from({ length: tenants }, (_, k) => gw.tokens.create(['subscribe'], `bench-${k}`, tenantName(k)).token);
  const producer = new TridentProducer(createKafka(gw.config, 'trident-bench'), EventCodec.fromConfig(gw.config), gw.config);
  await producer.connect();
  const rss: Record<string, number[]> = { idle: [rssMiB(gw.pid)], connected: [], A: [], filler: [], B: [] };
  let rssPhase = 'connected';
  const sampler = setInterval(() => rss[rssPhase]!.push(rssMiB(gw.pid)), 250);

  // ---- connect ----
  const all: Client[] = [];
  const t0 = Date.now();
  for (let i = 0; i < clients; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, clients - i) }, async (_, j) => {
        const k = (i + j) % tenants;
        const ws = new WebSocket(gw.ws, ['trident.v1', `bearer.${tokenOf[k]}`], { perMessageDeflate: false });
        const c: Client = { ws, tenant: tenantName(k), foreign: 0, latencies: new Map(), window: null, lagged: 0 };
        ws.on('message', (data) => {
          const now = Date.now();
          const m = JSON.parse(data.toString()) as {
            type: string;
            task?: string;
            missed?: number;
            data?: { processedAt: number; tenant: string | null };
          };
          if (m.type === 'result' && m.data && (m.data.tenant ?? 'default') !== c.tenant) c.foreign += 1;
          if (m.type === 'result' && m.task === 'sentiment' && m.data && c.window)
            c.latencies.get(c.window)!.push(now - m.data.processedAt);
          else if (m.type === 'lagged') c.lagged += m.missed ?? 0;
        });
        await new Promise<void>((resolve, reject) => {
          ws.once('error', reject);
          ws.on('message', function first(data) {
            const m = JSON.parse(data.toString()) as { type: string };
            if (m.type === 'welcome') ws.send(JSON.stringify({ v: 1, type: 'subscribe', tasks: ['sentiment'] }));
            if (m.type === 'subscribed') {
              ws.off('message', first);
              resolve();
            }
          });
        });
        all[i + j] = c;
      }),
    );
  }
  console.log(
    `connected and subscribed ${clients} clients in ${((Date.now() - t0) / 1000).toFixed(1)} s; gateway RSS ${rssMiB(gw.pid).toFixed(0)} MiB`,
  );

  let seq = 0;
  /** Results published per window and tenant. */
  const sentTo = new Map<string, Map<string, number>>();
  /** Publishes `rate` results/s for `secs` into window `name` (null: unmeasured). Returns how many. */
  const steady = async (phase: Phase, name: string | null, secs: number): Promise<number> => {
    const perTenant = new Map<string, number>();
    if (name) sentTo.set(name, perTenant);
    for (const c of all) {
      c.window = name;
      if (name) c.latencies.set(name, []);
    }
    const n = Math.round(rate * secs);
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      const id = `${phase}-${seq}`;
      const k = seq++ % tenants;
      perTenant.set(tenantName(k), (perTenant.get(tenantName(k)) ?? 0) + 1);
      const now = Date.now();
      await producer.send([
        {
          kind: 'sentiment',
          key: id,
          event: {
            id,
            key: id,
            tenant: resultTenant(k),
            modelName: 'bench',
            modelVersion: '1',
            createdAt: now,
            processedAt: now,
            label: 'positive',
            scores: { positive: 0.9, negative: 0.1 },
          },
        },
      ]);
    }
    await sleep(2_000); // let the tail arrive
    return n;
  };
  let mark = cpuSeconds(gw.pid);
  const lap = () => {
    const now = cpuSeconds(gw.pid);
    const d = now - mark;
    mark = now;
    return d;
  };

  await steady('W', null, Number(a.get('warmup') ?? 5));

  const slow = all[0]!;
  slow.ws.send(JSON.stringify({ v: 1, type: 'subscribe', tasks: ['entities'], keys: ['filler'] }));
  const big = 'Ada Lovelace worked in London. '.repeat(3300); // ~100 KB per result
  const sent: Record<string, number> = {};
  const cpu = { A: 0, B: 0 };
  let filler = 0;
  let dropped = 0;
  const rssByRound: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    rssPhase = 'A';
    lap();
    sent[`A${r}`] = await steady('A', `A${r}`, seconds);
    cpu.A += lap();

    // Client 0 stops reading; large results only it wants fill its buffers until the gateway drops for it.
    rssPhase = 'filler';
    slow.ws.pause();
    const droppedBefore = await metricSum(gw.http, 'trident_gateway_results_dropped_total');
    for (let k = 0; k < 60; k++) {
      const batch = Array.from({ length: 10 }, () => {
        const id = `filler-${filler++}`;
        const now = Date.now();
        return {
          kind: 'entities' as const,
          key: 'filler',
          event: {
            id,
            key: 'filler',
            tenant: resultTenant(0),
            modelName: 'bench',
            modelVersion: '1',
            createdAt: now,
            processedAt: now,
            text: big,
            entities: [],
          },
        };
      });
      await producer.send(batch);
      await sleep(100);
      if ((await metricSum(gw.http, 'trident_gateway_results_dropped_total')) > droppedBefore) break;
    }
    if ((await metricSum(gw.http, 'trident_gateway_results_dropped_total')) === droppedBefore)
      console.log(`round ${r}: the gateway is NOT dropping for the slow client yet`);
    await sleep(3_000); // let the last filler results pass through the gateway before measuring
    rssPhase = 'B';
    lap();
    sent[`B${r}`] = await steady('B', `B${r}`, seconds);
    cpu.B += lap();
    dropped += (await metricSum(gw.http, 'trident_gateway_results_dropped_total')) - droppedBefore;
    // It reads again and catches up before the next baseline (unmeasured).
    rssPhase = 'filler';
    for (const c of all) c.window = null;
    slow.ws.resume();
    await sleep(3_000);
    rssByRound.push(rssMiB(gw.pid));
  }
  clearInterval(sampler);

  // ---- report ----
  const others = all.slice(1);
  const summarise = (windows: string[], group: Client[]) => {
    // What a client should get: its tenant's results of those windows.
    const expectedOf = (c: Client) => windows.reduce((n, w) => n + (sentTo.get(w)?.get(c.tenant) ?? 0), 0);
    const of = (c: Client) => windows.flatMap((w) => c.latencies.get(w) ?? []);
    const lat = new Float64Array(group.reduce((n, c) => n + of(c).length, 0));
    let k = 0;
    for (const c of group) for (const v of of(c)) lat[k++] = v;
    lat.sort();
    const complete = group.filter((c) => of(c).length === expectedOf(c)).length;
    return {
      delivered: lat.length,
      expected: group.reduce((n, c) => n + expectedOf(c), 0),
      clientsComplete: complete,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: lat.length ? lat[lat.length - 1]! : NaN,
    };
  };
  const names = (p: 'A' | 'B') => Array.from({ length: rounds }, (_, i) => `${p}${i + 1}`);
  const A = summarise(names('A'), others);
  const B = summarise(names('B'), others);
  const perRound = Array.from({ length: rounds }, (_, i) => ({ A: summarise([`A${i + 1}`], others), B: summarise([`B${i + 1}`], others) }));
  const max = (xs: number[]) => Math.max(...xs.filter(Number.isFinite));
  const report = {
    clients,
    tenants,
    crossTenantResults: all.reduce((n, c) => n + c.foreign, 0),
    rate,
    seconds,
    rounds,
    sendQueueMax: queueMax,
    phaseA: A,
    phaseB: B,
    perRound,
    p99Ratio: B.p99 / A.p99,
    gatewayCpuSeconds: cpu,
    rssMiBEndOfRound: rssByRound,
    rssMiB: { idle: rss.idle![0]!, connectedMax: max(rss.connected!), Amax: max(rss.A!), fillerMax: max(rss.filler!), Bmax: max(rss.B!) },
    slowClient: {
      fillerResults: filler,
      droppedByGateway: dropped,
      laggedNoticesMissed: slow.lagged,
      receivedInB: names('B').reduce((n, w) => n + (slow.latencies.get(w)?.length ?? 0), 0),
      publishedInB: names('B').reduce((n, w) => n + (sentTo.get(w)?.get(slow.tenant) ?? 0), 0),
    },
  };
  const row = (name: string, s: typeof A) =>
    `${name.padEnd(28)} ${`${s.delivered}/${s.expected}`.padStart(16)} ${String(s.clientsComplete).padStart(9)} ${s.p50.toFixed(0).padStart(7)} ${s.p99.toFixed(0).padStart(7)} ${s.max.toFixed(0).padStart(7)}`;
  console.log(`\n${clients} clients in ${tenants} tenant(s); results of another tenant received: ${report.crossTenantResults}`);
  console.log(`${clients} clients, ${rate} results/s, ${rounds} rounds of ${seconds} s per phase, sendQueueMax ${queueMax}`);
  console.log(
    `${'the 999 other clients'.padEnd(28)} ${'delivered'.padStart(16)} ${'complete'.padStart(9)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)}`,
  );
  console.log(row('A: all reading', A));
  console.log(row('B: client 0 stopped', B));
  perRound.forEach((p, i) => {
    console.log(row(`  round ${i + 1} A`, p.A));
    console.log(row(`  round ${i + 1} B`, p.B));
  });
  console.log(
    `p99 ratio B/A: ${report.p99Ratio.toFixed(2)} (target <= 1.20); per round: ${perRound.map((p) => (p.B.p99 / p.A.p99).toFixed(2)).join(', ')}`,
  );
  console.log(`gateway CPU s: A ${cpu.A.toFixed(1)}, B ${cpu.B.toFixed(1)} (B/A ${(cpu.B / cpu.A).toFixed(2)})`);
  console.log(
    `gateway RSS MiB: idle ${report.rssMiB.idle.toFixed(0)}, connected ${report.rssMiB.connectedMax.toFixed(0)}, A max ${report.rssMiB.Amax.toFixed(0)}, B max ${report.rssMiB.Bmax.toFixed(0)}, filling/catch-up max ${report.rssMiB.fillerMax.toFixed(0)} (B/A ${(report.rssMiB.Bmax / report.rssMiB.Amax).toFixed(2)})`,
  );
  console.log(`gateway RSS MiB at the end of each round: ${rssByRound.map((v) => v.toFixed(0)).join(', ')}`);
  console.log(
    `slow client: gateway dropped ${dropped} frames for it; its lagged notices said ${slow.lagged} missed; it received ${report.slowClient.receivedInB}/${report.slowClient.publishedInB} results in B`,
  );
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench', 'results', `gateway-fanout-${Date.now()}.json`), JSON.stringify(report, null, 2));

  for (const c of all) c.ws.terminate();
  await producer.disconnect();
  await gw.stop();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
