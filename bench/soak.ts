/**
 * `npm run soak`: measures the processor's peak rate, then runs it at 70 % of that for `--minutes`
 * (default 30), printing every interval: RSS of the `trident serve` process and its growth since the
 * start, consumer lag (events produced − results committed), and p50/p99 end-to-end latency
 * (createdAt → result received, read_committed) of that interval.
 *
 *   node dist/bench/soak.js [--minutes 30] [--interval 30] [--model <dir>] [--share 0.7]
 * (a running stack is started if needed, as for the other benchmarks; KAFKA_BROKERS/SCHEMA_REGISTRY_URL use an external one)
 */
import { createKafka, defaultPartitioner } from '../common/kafka';
import { EventCodec } from '../schemas/codec';
import { RatePacer } from '../producers/rate';
import { benchConfig, benchEvents, listenResults, percentile, startServe } from './processor-common';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

const TEXTS = [
  'The new phone from Samsung is fast, but the battery dies before lunch in Berlin.',
  'Maria Lopez flew from Lisbon to Toronto and loved the service.',
  'My refund has not arrived after three weeks; I want to close my account.',
  'Apple opened a store in Madrid; the queue went around the block.',
];

async function main(): Promise<void> {
  const minutes = Number(arg('minutes', '30'));
  const intervalS = Number(arg('interval', '30'));
  const share = Number(arg('share', '0.7'));
  const model = arg('model', ''); // default: the configured model (model.path, else the newest released artifact)
  const { config, env } = await benchConfig(6);
  const codec = EventCodec.fromConfig(config);
  const metricsPort = 29000 + Math.floor(Math.random() * 900);
  const serve = await startServe(model ? { ...env, TRIDENT_MODEL_PATH: model } : env, {}, metricsPort);
  const producer = createKafka(config, 'soak-producer').producer({ idempotent: true, createPartitioner: defaultPartitioner });
  await producer.connect();
  let received = 0;
  let produced = 0;
  let latencies: number[] = [];
  const stop = await listenResults(config, (_id, task, receivedAt, createdAt) => {
    if (task !== 'sentiment') return;
    received += 1;
    latencies.push(receivedAt - createdAt);
  });
  let seq = 0;
  const send = async (count: number) => {
    const events = benchEvents(
      Array.from({ length: count }, (_, i) => TEXTS[(seq + i) % TEXTS.length]!),
      `soak-${seq}`,
    );
    seq += count;
    const now = Date.now();
    const messages = await Promise.all(
      events.map(async (e) => ({ key: e.id, value: await codec.encode('text', { ...e, createdAt: now }) })),
    );
    await producer.send({ topic: config.topics.text, messages });
    produced += count;
  };
  const rss = async () => (await serve.metrics()).get('trident_process_resident_memory_bytes') ?? NaN;

  // Peak: a backlog of 2,000 events, drained as fast as the processor can.
  const peakEvents = 2000;
  for (let i = 0; i < peakEvents; i += 200) await send(200);
  const peakStart = Date.now();
  while (received < peakEvents) await sleep(100);
  const peak = peakEvents / ((Date.now() - peakStart) / 1000);
  const rate = peak * share;
  console.log(
    `soak: peak ${peak.toFixed(1)} events/s (backlog of ${peakEvents}); running at ${Math.round(share * 100)} % = ${rate.toFixed(1)}/s for ${minutes} min, model ${model || 'configured default'}`,
  );
  latencies = [];
  const rss0 = await rss();
  const pacer = new RatePacer(rate);
  const started = Date.now();
  let nextReport = started + intervalS * 1000;
  console.log('  minute   RSS MB   growth MB   lag (produced−committed)   p50 ms   p99 ms   results/s');
  let lastReceived = received;
  while (Date.now() - started < minutes * 60_000) {
    const batch = Math.max(1, Math.round(rate / 10));
    const wait = pacer.delayFor(batch);
    if (wait > 0) await sleep(wait);
    await send(batch);
    if (Date.now() >= nextReport) {
      const sorted = latencies.sort((a, b) => a - b);
      const now = await rss();
      console.log(
        `  ${((Date.now() - started) / 60_000).toFixed(1).padStart(6)}   ${(now / 1e6).toFixed(0).padStart(6)}   ${((now - rss0) / 1e6).toFixed(1).padStart(9)}   ${String(produced - received).padStart(24)}   ${percentile(sorted, 50).toFixed(0).padStart(6)}   ${percentile(sorted, 99).toFixed(0).padStart(6)}   ${((received - lastReceived) / intervalS).toFixed(1).padStart(9)}`,
      );
      latencies = [];
      lastReceived = received;
      nextReport += intervalS * 1000;
    }
  }
  const rss1 = await rss();
  console.log(
    `soak: RSS ${(rss0 / 1e6).toFixed(0)} → ${(rss1 / 1e6).toFixed(0)} MB (${((rss1 - rss0) / 1e6).toFixed(1)} MB over ${minutes} min); final lag ${produced - received}`,
  );
  await producer.disconnect();
  await stop();
  await serve.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
