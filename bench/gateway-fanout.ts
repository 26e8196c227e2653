/**
 * Fan-out to 1,000 WebSocket clients on loopback, then the same with one client that stops reading.
 *
 *   npm run build && node dist/bench/gateway-fanout.js [--clients 1000] [--rate 10] [--seconds 15] [--warmup 5] [--queue 256]
 *
 * The gateway runs as its own process (`trident gateway`, dist/) on fresh topics; every client
 * subscribes to sentiment. Results are published at a steady rate straight to the result topic, each
 * stamped with `processedAt` just before sending; a client's delivery latency is its receive time
 * minus `processedAt` (Kafka produce + the gateway's read_committed fetch + fan-out + loopback).
 *
 * After a warm-up (`--warmup 5` s, not measured), phase A (baseline): every client reads. Phase B: client 0 stops reading; first a burst of large
 * results only it subscribes to fills its socket buffers and its bounded queue (it is then dropping,
 * "lagged"), then the same steady phase as A. Printed: delivery counts, p50/p99 per phase and their
 * ratio (B/A for the 999 others; A is measured before and again after B), the gateway's RSS in each phase, and what the slow client missed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createKafka } from '../common/kafka';
import { TridentProducer } from '../producers/producer';
import { EventCodec } from '../schemas/codec';
import { args, metricSum, percentile, repoRoot, rssMiB, sleep, startGatewayProcess } from './gateway-common';

interface Client {
  ws: WebSocket;
  latencies: { A: number[]; B: number[] };
  phase: 'W' | 'A' | 'B';
  lagged: number;
}

async function main(): Promise<void> {
  const a = args();
  const clients = Number(a.get('clients') ?? 1000);
  const rate = Number(a.get('rate') ?? 10);
  const seconds = Number(a.get('seconds') ?? 15);
  const queueMax = Number(a.get('queue') ?? 256);
  const gw = await startGatewayProcess('fanout', {
    TRIDENT_GATEWAY_MAX_SOCKETS_PER_TOKEN: String(clients + 10),
    TRIDENT_GATEWAY_SEND_QUEUE_MAX: String(queueMax),
    TRIDENT_GATEWAY_REQUESTS_PER_MINUTE_PER_TOKEN: '100000',
  });
  const token = gw.tokens.create(['subscribe'], 'bench').token;
  const producer = new TridentProducer(createKafka(gw.config, 'trident-bench'), EventCodec.fromConfig(gw.config), gw.config);
  await producer.connect();
  const rss: Record<string, number[]> = { idle: [rssMiB(gw.pid)], connected: [], A: [], filler: [], B: [], after: [] }; // 'after' = the second A phase
  let rssPhase = 'connected';
  const sampler = setInterval(() => rss[rssPhase]!.push(rssMiB(gw.pid)), 250);

  // ---- connect ----
  const all: Client[] = [];
  const t0 = Date.now();
  for (let i = 0; i < clients; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, clients - i) }, async (_, j) => {
        const ws = new WebSocket(gw.ws, ['trident.v1', `bearer.${token}`], { perMessageDeflate: false });
        const c: Client = { ws, latencies: { A: [], B: [] }, phase: 'W', lagged: 0 };
        ws.on('message', (data) => {
          const now = Date.now();
          const m = JSON.parse(data.toString()) as { type: string; missed?: number; data?: { processedAt: number } };
          if (m.type === 'result' && m.data && c.phase !== 'W' && (m as { task?: string }).task === 'sentiment') c.latencies[c.phase].push(now - m.data.processedAt);
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
  console.log(`connected and subscribed ${clients} clients in ${((Date.now() - t0) / 1000).toFixed(1)} s; gateway RSS ${rssMiB(gw.pid).toFixed(0)} MiB`);

  let seq = 0;
  const steady = async (phase: 'W' | 'A' | 'B', secs: number): Promise<number> => {
    for (const c of all) c.phase = phase;
    const n = Math.round(rate * secs);
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const id = `${phase}-${seq++}`;
      const now = Date.now();
      await producer.send([{ kind: 'sentiment', key: id, event: { id, key: id, tenant: null, modelName: 'bench', modelVersion: '1', createdAt: now, processedAt: now, label: 'positive', scores: { positive: 0.9, negative: 0.1 } } }]);
    }
    await sleep(2_000); // let the tail arrive
    return n;
  };

  // ---- warm-up, then phase A ----
  await steady('W', Number(a.get('warmup') ?? 5));
  rssPhase = 'A';
  const sentA1 = await steady('A', seconds);

  // ---- phase B: client 0 stops reading ----
  const slow = all[0]!;
  rssPhase = 'filler';
  slow.ws.send(JSON.stringify({ v: 1, type: 'subscribe', tasks: ['entities'], keys: ['filler'] }));
  await sleep(500);
  slow.ws.pause();
  const big = 'Ada Lovelace worked in London. '.repeat(3300); // ~100 KB per result
  const droppedBefore = await metricSum(gw.http, 'trident_gateway_results_dropped_total');
  let filler = 0;
  for (let round = 0; round < 40; round++) {
    const batch = Array.from({ length: 10 }, () => {
      const id = `filler-${filler++}`;
      const now = Date.now();
      return { kind: 'entities' as const, key: 'filler', event: { id, key: 'filler', tenant: null, modelName: 'bench', modelVersion: '1', createdAt: now, processedAt: now, text: big, entities: [] } };
    });
    await producer.send(batch);
    await sleep(100);
    if ((await metricSum(gw.http, 'trident_gateway_results_dropped_total')) > droppedBefore) break;
  }
  const lagging = (await metricSum(gw.http, 'trident_gateway_results_dropped_total')) > droppedBefore;
  console.log(`slow client: ${filler} filler results (${((filler * big.length) / 1e6).toFixed(0)} MB) sent; gateway ${lagging ? 'is dropping for it (lagged)' : 'NOT yet dropping'}`);
  rssPhase = 'B';
  const sentB = await steady('B', seconds);
  const missedByMetric = (await metricSum(gw.http, 'trident_gateway_results_dropped_total')) - droppedBefore;
  slow.ws.resume();
  await sleep(3_000);
  // Phase A again: the baseline is A before and after B, so warm-up or drift do not favour either side.
  rssPhase = 'after';
  const sentA2 = await steady('A', seconds);
  const sentA = sentA1 + sentA2;
  clearInterval(sampler);

  // ---- report ----
  const others = all.slice(1);
  const summarise = (phase: 'A' | 'B', sent: number, group: Client[]) => {
    const lat = new Float64Array(group.reduce((n, c) => n + c.latencies[phase].length, 0));
    let k = 0;
    for (const c of group) for (const v of c.latencies[phase]) lat[k++] = v;
    lat.sort();
    const complete = group.filter((c) => c.latencies[phase].length === sent).length;
    return { delivered: lat.length, expected: sent * group.length, clientsComplete: complete, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.length ? lat[lat.length - 1]! : NaN };
  };
  const A = summarise('A', sentA, others);
  const Aslow = summarise('A', sentA, [slow]);
  const B = summarise('B', sentB, others);
  const max = (xs: number[]) => Math.max(...xs.filter(Number.isFinite));
  const report = {
    clients,
    rate,
    seconds,
    sendQueueMax: queueMax,
    phaseA: { ...A, slowClientToo: Aslow },
    phaseB: B,
    p99Ratio: B.p99 / A.p99,
    rssMiB: { idle: rss.idle![0], connectedMax: max(rss.connected!), Amax: max(rss.A!), fillerMax: max(rss.filler!), Bmax: max(rss.B!), afterMax: max(rss.after!) },
    slowClient: { fillerResults: filler, droppedByGateway: missedByMetric, laggedNoticeMissed: slow.lagged, receivedInB: slow.latencies.B.length },
  };
  const row = (name: string, s: typeof A) => `${name.padEnd(26)} ${`${s.delivered}/${s.expected}`.padStart(16)} ${String(s.clientsComplete).padStart(9)} ${s.p50.toFixed(0).padStart(7)} ${s.p99.toFixed(0).padStart(7)} ${s.max.toFixed(0).padStart(7)}`;
  console.log(`\n${clients} clients, ${rate} results/s for ${seconds} s per phase, sendQueueMax ${queueMax}`);
  console.log(`${'phase (999 others)'.padEnd(26)} ${'delivered'.padStart(16)} ${'complete'.padStart(9)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)}`);
  console.log(row('A: all reading (x2)', A));
  console.log(row('B: client 0 stopped', B));
  console.log(`p99 ratio B/A: ${report.p99Ratio.toFixed(2)} (target <= 1.20)`);
  console.log(`gateway RSS MiB: idle ${report.rssMiB.idle!.toFixed(0)}, A max ${report.rssMiB.Amax.toFixed(0)}, filler max ${report.rssMiB.fillerMax.toFixed(0)}, B max ${report.rssMiB.Bmax.toFixed(0)}, A-again max ${report.rssMiB.afterMax.toFixed(0)} (B/A ${(report.rssMiB.Bmax / report.rssMiB.Amax).toFixed(2)})`);
  console.log(`slow client: gateway dropped ${missedByMetric} frames for it; its lagged notices said ${slow.lagged} missed; it received ${slow.latencies.B.length}/${sentB} in B`);
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
