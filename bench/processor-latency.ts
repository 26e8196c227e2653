/**
 * Produce → result latency of `trident serve` at half its measured peak rate: first a backlog run
 * measures the peak (events/s end to end), then `trident produce --rate` (a separate process) sends
 * events at half that rate for `--seconds`, and each result's arrival time (read_committed
 * consumer, this process) minus its event's createdAt is recorded. Prints p50/p99 and, beside them, the encoder time of one micro-batch (mean model
 * time per batch from the processor's metrics) and the latency beyond it (goals ≤ 15 ms / 50 ms).
 * A second, read_uncommitted reader sees each result as soon as it is written; the read_committed
 * reader's lag behind it is the transaction-marker delay, reported separately (≈ 0 at-least-once).
 *
 *   npm run build && node dist/bench/processor-latency.js [--model DIR] [--seconds 20] [--peak-texts 1024]
 *     [--delivery exactly-once|at-least-once] [--batch-wait adaptive|fixed] [--rate N]
 *
 * `--rate N` paces at N events/s instead of half the peak: to compare settings (sessions, delivery)
 * at the same load rather than each at half its own peak.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createKafka } from '../common/kafka';
import { EventCodec } from '../schemas/codec';
import { TridentProducer } from '../producers/producer';
import { resolveModelDir } from '../model/artifacts';
import { args, benchTexts, fmt, mb } from './encoder-common';
import { builtInTasks } from '../common/tasks';
import { benchConfig, benchEvents, listenResults, percentile, startServe } from './processor-common';

async function main(): Promise<void> {
  const a = args();
  const dir = resolveModelDir(a.get('model'));
  const seconds = Number(a.get('seconds') ?? 20);
  const peakTexts = Number(a.get('peak-texts') ?? 1024);
  const partitions = Number(a.get('partitions') ?? 6);
  const texts = benchTexts(peakTexts);
  const delivery = a.get('delivery') ?? 'exactly-once';
  const batchWait = a.get('batch-wait') ?? 'adaptive';
  if (!['exactly-once', 'at-least-once'].includes(delivery)) throw new Error(`--delivery: exactly-once or at-least-once, not ${delivery}`);
  if (!['adaptive', 'fixed'].includes(batchWait)) throw new Error(`--batch-wait: adaptive or fixed, not ${batchWait}`);
  const { config, env } = await benchConfig(partitions);
  const serve = await startServe(
    { ...env, TRIDENT_MODEL_PATH: dir },
    { TRIDENT_PROCESSOR_DELIVERY: delivery, TRIDENT_PROCESSOR_BATCH_WAIT: batchWait },
    29900 + Math.floor(Math.random() * 90),
  );
  const producer = new TridentProducer(createKafka(config, 'bench-producer'), EventCodec.fromConfig(config), config);
  await producer.connect();

  // 1. Peak: a backlog produced at once, time to the last result.
  const peakEvents = benchEvents(texts, 'peak');
  let pending = peakEvents.length * builtInTasks.length;
  let phase: 'peak' | 'paced' = 'peak';
  let lastAt = 0;
  const perEvent = new Map<string, { createdAt: number; last: number; tasks: number }>();
  let finishPeak: () => void = () => undefined;
  const peakDone = new Promise<void>((r) => (finishPeak = r));
  const toProcessed: number[] = [];
  const toReceived: number[] = [];
  // Per task/id: when the read_uncommitted reader got it, when the read_committed one did.
  const writtenAt = new Map<string, number>();
  const committedAt = new Map<string, number>();
  const markerDelays: number[] = [];
  const stopListening = await listenResults(config, (id, task, receivedAt, createdAt, processedAt) => {
    if (phase === 'peak') {
      lastAt = receivedAt;
      if (--pending === 0) finishPeak();
      return;
    }
    toProcessed.push(processedAt - createdAt);
    toReceived.push(receivedAt - processedAt);
    const entry = perEvent.get(id) ?? { createdAt, last: 0, tasks: 0 };
    entry.last = Math.max(entry.last, receivedAt);
    entry.tasks += 1;
    perEvent.set(id, entry);
    const key = `${task}/${id}`;
    const uncommittedAt = writtenAt.get(key);
    if (uncommittedAt !== undefined) markerDelays.push(receivedAt - uncommittedAt);
    else committedAt.set(key, receivedAt);
  });
  // The same results as soon as they are written (transaction open or not): the marker delay is how
  // much later the read_committed reader above gets each one.
  const stopUncommitted = await listenResults(
    config,
    (id, task, receivedAt) => {
      if (phase !== 'paced') return;
      const key = `${task}/${id}`;
      const seenCommitted = committedAt.get(key);
      if (seenCommitted !== undefined) markerDelays.push(seenCommitted - receivedAt);
      else writtenAt.set(key, receivedAt);
    },
    { readUncommitted: true },
  );
  const started = Date.now();
  for (let i = 0; i < peakEvents.length; i += 500)
    await producer.send(peakEvents.slice(i, i + 500).map((event) => ({ kind: 'text' as const, event, key: event.id })));
  await peakDone;
  const peak = peakEvents.length / ((lastAt - started) / 1000);
  const before = await serve.metrics();
  console.log(`delivery ${delivery}, batch wait ${batchWait}`);
  console.log(`model ${dir}; peak end-to-end ${fmt(peak)} events/s (all four tasks, one question each)`);

  // 2. Half the peak, paced by `trident produce --rate` in its own process (so this process only
  // reads results); latency = result received − event createdAt (stamped when the event is sent).
  phase = 'paced';
  const rate = a.has('rate') ? Number(a.get('rate')) : peak / 2;
  if (!(rate > 0)) throw new Error(`--rate: expected events/s > 0, got ${a.get('rate')}`);
  const total = Math.max(1, Math.round(rate * seconds));
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'trident-bench-')), 'paced.jsonl');
  writeFileSync(
    file,
    benchEvents(benchTexts(total), 'paced')
      .map((e) => JSON.stringify({ id: e.id, text: e.text, tasks: e.tasks, questions: e.questions }))
      .join('\n') + '\n',
  );
  let peakRss = 0;
  const sampler = setInterval(
    () =>
      void serve
        .metrics()
        .then((m) => (peakRss = Math.max(peakRss, m.get('trident_process_resident_memory_bytes') ?? 0)))
        .catch(() => undefined),
    250,
  );
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.resolve(__dirname, '..', '..', 'bin', 'trident.js'),
        'produce',
        '--file',
        file,
        '--rate',
        `${rate.toFixed(1)}/s`,
        '--no-progress',
      ],
      { env: { ...process.env, ...env }, stdio: 'ignore' },
    );
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`trident produce exited ${code}`))));
  });
  clearInterval(sampler);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && [...perEvent.values()].filter((e) => e.tasks >= builtInTasks.length).length < total)
    await new Promise((r) => setTimeout(r, 100));
  const after = await serve.metrics();
  const complete = [...perEvent.values()].filter((e) => e.tasks >= builtInTasks.length);
  const latencies = complete.map((e) => e.last - e.createdAt).sort((x, y) => x - y);
  const batches =
    (after.get('trident_processor_inference_seconds_count') ?? 0) - (before.get('trident_processor_inference_seconds_count') ?? 0);
  const modelSeconds =
    (after.get('trident_processor_inference_seconds_sum') ?? 0) - (before.get('trident_processor_inference_seconds_sum') ?? 0);
  const encoderMs = (modelSeconds / Math.max(1, batches)) * 1000;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(`paced at ${fmt(rate)} events/s for ${seconds} s: ${complete.length}/${total} events with all four results`);
  console.log(`latency produce → last of its four results: p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms`);
  toProcessed.sort((x, y) => x - y);
  toReceived.sort((x, y) => x - y);
  console.log(
    `  of which created → processor encodes the result: p50 ${fmt(percentile(toProcessed, 50))} ms, p99 ${fmt(percentile(toProcessed, 99))} ms; result encoded → received (commit + read_committed fetch): p50 ${fmt(percentile(toReceived, 50))} ms, p99 ${fmt(percentile(toReceived, 99))} ms`,
  );
  markerDelays.sort((x, y) => x - y);
  console.log(
    `read_committed marker delay (read_committed − read_uncommitted receive time, ${markerDelays.length} results): p50 ${fmt(percentile(markerDelays, 50))} ms, p99 ${fmt(percentile(markerDelays, 99))} ms`,
  );
  console.log(`model time of one micro-batch (mean over ${batches} batches): ${fmt(encoderMs)} ms`);
  console.log(`beyond one batch's model time: p50 ${fmt(p50 - encoderMs)} ms (goal ≤ 15), p99 ${fmt(p99 - encoderMs)} ms (goal ≤ 50)`);
  const commits = (after.get('trident_processor_commit_seconds_count') ?? 0) - (before.get('trident_processor_commit_seconds_count') ?? 0);
  const commitMs =
    (((after.get('trident_processor_commit_seconds_sum') ?? 0) - (before.get('trident_processor_commit_seconds_sum') ?? 0)) /
      Math.max(1, commits)) *
    1000;
  console.log(
    `${delivery === 'exactly-once' ? 'transactions' : 'batch commits (produce, acks, offsets)'}: ${commits} (mean ${fmt(commitMs)} ms to produce results and commit); micro-batches ${batches}`,
  );
  console.log(`processor peak RSS under load: ${mb(peakRss)}`);
  await producer.disconnect();
  await stopListening();
  await stopUncommitted();
  await serve.stop();
  process.exit(0);
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
