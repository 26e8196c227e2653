/**
 * What hot swapping costs a running processor, measured in one run on the same texts:
 *   1. baseline: `trident serve` following the registry, a backlog of texts, no promotions;
 *   2. swapping: the same, with a promotion (alternating two versions of the model) every --every s;
 *   3. latency: texts paced at half the baseline rate, a promotion every --every s.
 * Throughput is events through the model per second over the window (the processor's
 * micro-batch counter: results themselves arrive in bursts, one transaction per partition batch,
 * and a backlog makes those batches up to 1 MB). Prints swapping ÷ baseline (goal ≥ 0.9) and, per
 * promotion in the paced run, the time from the promotion record being written to the first result
 * computed by the new version (p50/p99).
 *
 *   npm run build && node dist/bench/model-swap.js [--model DIR] [--seconds 40] [--every 10] [--partitions 6] [--texts 60000]
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { EventCodec } from '../schemas/codec';
import { TridentProducer } from '../producers/producer';
import { resolveModelDir } from '../model/artifacts';
import { ModelRegistry } from '../model/registry/registry';
import { args, benchTexts, fmt } from './encoder-common';
import { benchConfig, benchEvents, percentile, startServe } from './processor-common';

/** The artifact again under version `<version>-swap` (same files, so every digest stays valid). */
function secondVersion(dir: string): string {
  const copy = path.join(mkdtempSync(path.join(tmpdir(), 'trident-swap-')), 'artifact');
  cpSync(dir, copy, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(copy, 'manifest.json'), 'utf8'));
  writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify({ ...manifest, version: `${manifest.version}-swap` }, null, 2));
  return copy;
}

/** Follows the sentiment topic (every text asks for every task): results per second and which version computed each. */
async function listenVersions(config: TridentConfig, onResult: (version: string, at: number) => void): Promise<() => Promise<void>> {
  const kafka = createKafka(config, 'bench-swap-reader');
  const codec = EventCodec.fromConfig(config);
  const consumer = kafka.consumer({ groupId: `bench-swap-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 5, minBytes: 1 });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic: config.topics.sentiment, fromBeginning: false });
  await consumer.run({
    partitionsConsumedConcurrently: 16,
    eachMessage: async ({ message }) => onResult((await codec.decode('sentiment', message.value)).modelVersion, Date.now()),
  });
  await joined;
  return () => consumer.disconnect();
}

interface RunResult {
  perSecond: number;
  promotions: number;
  /** ms from each promotion written to the first result of the promoted version. */
  firstResultMs: number[];
  swapSeconds: number;
}

async function run(
  dir: string,
  other: string,
  seconds: number,
  every: number | null,
  partitions: number,
  texts: string[],
  tag: string,
  ratePerSecond: number | null = null,
): Promise<RunResult> {
  const { config, env } = await benchConfig(partitions);
  const store = mkdtempSync(path.join(tmpdir(), 'trident-swap-store-'));
  const cfg: TridentConfig = { ...config, models: { ...config.models, store } };
  const registry = ModelRegistry.fromConfig(cfg, 'bench-swap');
  const a = (await registry.register(dir)).record;
  const b = (await registry.register(other)).record;
  await registry.promote({ name: a.name, version: a.version });
  const serve = await startServe({ ...env, TRIDENT_MODELS_STORE: store }, {}, 29100 + Math.floor(Math.random() * 300));
  const promotedAt: Array<{ version: string; at: number; firstResult: number | null }> = [];
  const stop = await listenVersions(config, (version, at) => {
    for (const p of promotedAt) if (p.firstResult === null && p.version === version && at >= p.at) p.firstResult = at - p.at;
  });
  const producer = new TridentProducer(createKafka(config, 'bench-swap-producer'), EventCodec.fromConfig(config), config);
  await producer.connect();
  const events = benchEvents(texts, tag);
  const send = (chunk: typeof events) =>
    producer.send(chunk.map((event) => ({ kind: 'text' as const, event: { ...event, createdAt: Date.now() }, key: event.id })));
  let pacing: Promise<void> = Promise.resolve();
  if (ratePerSecond === null) for (let i = 0; i < events.length; i += 500) await send(events.slice(i, i + 500));
  else {
    // Paced: a chunk every 50 ms until the window is over.
    const perTick = Math.max(1, Math.round(ratePerSecond / 20));
    pacing = (async () => {
      const started = Date.now();
      for (let i = 0, tick = 0; i < events.length && Date.now() - started < (seconds + 15) * 1000; i += perTick, tick++) {
        await send(events.slice(i, i + perTick));
        await new Promise((r) => setTimeout(r, Math.max(0, started + (tick + 1) * 50 - Date.now())));
      }
    })();
  }
  // The window opens with the first micro-batch (the first results only come with the first commits).
  const inferredAt = async () => (await serve.metrics()).get('trident_processor_batch_events_sum') ?? 0;
  while ((await inferredAt()) === 0) await new Promise((r) => setTimeout(r, 50));
  const inferredBefore = await inferredAt();
  const windowStart = Date.now();
  if (every) {
    for (let k = 1; k * every < seconds; k++) {
      await new Promise((r) => setTimeout(r, windowStart + k * every * 1000 - Date.now()));
      const to = k % 2 === 1 ? b : a;
      if (k % 2 === 1) await registry.promote({ name: to.name, version: to.version });
      else await registry.rollback(to.name);
      promotedAt.push({ version: to.version, at: Date.now(), firstResult: null });
    }
  }
  await new Promise((r) => setTimeout(r, Math.max(0, windowStart + seconds * 1000 - Date.now())));
  const metrics = await serve.metrics();
  const inferred = (metrics.get('trident_processor_batch_events_sum') ?? 0) - inferredBefore;
  const windowSeconds = (Date.now() - windowStart) / 1000;
  // Give the last promotion's first results time to arrive (latency run).
  const settle = Date.now() + 15_000;
  while (promotedAt.some((p) => p.firstResult === null) && Date.now() < settle) await new Promise((r) => setTimeout(r, 100));
  await pacing;
  await producer.disconnect();
  await stop();
  await serve.stop();
  return {
    perSecond: inferred / windowSeconds,
    promotions: promotedAt.length,
    firstResultMs: promotedAt.map((p) => p.firstResult ?? Number.POSITIVE_INFINITY).sort((x, y) => x - y),
    swapSeconds:
      (metrics.get('trident_processor_model_swap_seconds_sum') ?? 0) /
      Math.max(1, metrics.get('trident_processor_model_swap_seconds_count') ?? 0),
  };
}

async function main(): Promise<void> {
  const a = args();
  const dir = resolveModelDir(a.get('model'));
  const seconds = Number(a.get('seconds') ?? 40);
  const every = Number(a.get('every') ?? 10);
  const partitions = Number(a.get('partitions') ?? 6);
  // A backlog no run can finish within its window, so both measure capacity.
  const texts = benchTexts(Number(a.get('texts') ?? 60_000));
  const other = secondVersion(dir);
  console.log(
    `model ${dir} and a copy as a second version; ${seconds} s window; a promotion every ${every} s; ${partitions} partitions; backlog ${texts.length} texts, all four tasks`,
  );
  const base = await run(dir, other, seconds, null, partitions, texts, 'base');
  console.log(`baseline (no promotions): ${fmt(base.perSecond)} texts/s`);
  const swap = await run(dir, other, seconds, every, partitions, texts, 'swap');
  console.log(
    `with ${swap.promotions} promotions: ${fmt(swap.perSecond)} texts/s; mean swap (load, verify, parity, warm-up, switch) ${fmt(swap.swapSeconds, 2)} s`,
  );
  const rate = Math.round(base.perSecond / 2);
  const paced = await run(dir, other, seconds, every, partitions, texts, 'paced', rate);
  const ms = paced.firstResultMs;
  console.log(
    `paced at ${rate} texts/s with ${paced.promotions} promotions: promote → first result from the new version p50 ${fmt(percentile(ms, 50))} ms, p99 ${fmt(percentile(ms, 99))} ms (each: ${ms.map((x) => fmt(x)).join(', ')}); mean swap ${fmt(paced.swapSeconds, 2)} s`,
  );
  const backlogMs = swap.firstResultMs;
  console.log(
    `  (under the backlog: ${backlogMs.map((x) => fmt(x)).join(', ')} ms — a result commits with its whole partition batch, up to 1 MB of texts)`,
  );
  console.log(`\nswapping ÷ baseline throughput: ${fmt(swap.perSecond / base.perSecond, 2)} (goal ≥ 0.90)`);
  process.exit(0);
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
