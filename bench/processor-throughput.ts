/**
 * End-to-end throughput of the processor against its baselines, measured in the same run on the
 * same texts (all four tasks, one question per text):
 *   1. raw encoder: the encoder alone over exactly the batches the pipeline plans for these inputs;
 *   2. end-to-end: produce → `trident serve` (micro-batched) → results committed on all four topics;
 *   3. one event at a time: the same processor with micro-batches of one event.
 * Prints e2e ÷ raw (goal ≥ 0.90) and micro-batched ÷ one-at-a-time (goal ≥ 3), and the processor's RSS.
 * The raw run happens with the stack up and idle beside it (as it is beside the end-to-end runs), and
 * with the same encoder sessions and intra-op threads as the processor (`--sessions`, default: the
 * processor's for this batching; `--threads` per session, default: the cores ÷ sessions).
 *
 *   npm run build && node dist/bench/processor-throughput.js [--model DIR] [--texts 1024] [--single-texts 256] [--partitions 6] [--batching per-input|mixed] [--sessions N] [--threads N]
 */
import * as path from 'node:path';
import { openEncoder } from '../model/encoder';
import { Pipeline, defaultSessions } from '../model/pipeline';
import { resolveModelDir } from '../model/artifacts';
import { createKafka } from '../common/kafka';
import { EventCodec } from '../schemas/codec';
import { TridentProducer } from '../producers/producer';
import { args, benchTexts, cloneFeeds, fmt, mb } from './encoder-common';
import { builtInTasks } from '../common/tasks';
import { benchConfig, benchEvents, listenResults, startServe } from './processor-common';

async function rawEncoderSeconds(
  dir: string,
  inputs: Array<{ id: string; text: string; questions: string[] }>,
  microBatch: number,
  batching: 'per-input' | 'mixed',
  threads: number | undefined,
  sessions: number,
): Promise<number> {
  const pipeline = await Pipeline.load(dir, { batching });
  const chunks: (typeof inputs)[] = [];
  for (let i = 0; i < inputs.length; i += microBatch) chunks.push(inputs.slice(i, i + microBatch));
  const feeds = (await Promise.all(chunks.map((c) => pipeline.plannedFeeds(c, [...builtInTasks])))).flat();
  await pipeline.close();
  const encoder = await openEncoder(path.join(dir, pipeline.manifest.encoder.file), {
    maxQueued: 1 << 20,
    sessions,
    ...(threads ? { threads } : {}),
  });
  const output = pipeline.manifest.encoder.outputs[0]!;
  for (const f of feeds.slice(0, 4)) await encoder.run(cloneFeeds(f), output); // warm-up
  const started = performance.now();
  const pending: Array<Promise<unknown>> = [];
  for (const f of feeds) {
    if (pending.length >= 2 * sessions) await pending.shift(); // two per session, as the pipeline keeps its worker fed
    pending.push(encoder.run(cloneFeeds(f), output));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  await encoder.close();
  return seconds;
}

async function endToEnd(
  texts: string[],
  settings: Record<string, string>,
  tag: string,
  dir: string,
  partitions: number,
): Promise<{ seconds: number; rssBytes: number; batches: number; meanBatch: number; inferenceSeconds: number; commitSeconds: number }> {
  const { config, env } = await benchConfig(partitions); // topics of their own per run
  const serve = await startServe({ ...env, TRIDENT_MODEL_PATH: dir }, settings, 29500 + Math.floor(Math.random() * 400));
  const events = benchEvents(texts, tag);
  const expected = events.length * builtInTasks.length;
  let received = 0;
  let lastAt = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const stopListening = await listenResults(config, (_id, _task, receivedAt) => {
    received += 1;
    lastAt = receivedAt;
    if (received >= expected) resolveDone();
  });
  let peakRss = 0;
  const sampler = setInterval(
    () =>
      void serve
        .metrics()
        .then((m) => (peakRss = Math.max(peakRss, m.get('trident_process_resident_memory_bytes') ?? 0)))
        .catch(() => undefined),
    250,
  );
  const producer = new TridentProducer(createKafka(config, 'bench-producer'), EventCodec.fromConfig(config), config);
  await producer.connect();
  const started = Date.now();
  for (let i = 0; i < events.length; i += 500)
    await producer.send(events.slice(i, i + 500).map((event) => ({ kind: 'text' as const, event, key: event.id })));
  await done;
  clearInterval(sampler);
  const metrics = await serve.metrics();
  await producer.disconnect();
  await stopListening();
  await serve.stop();
  const batches = metrics.get('trident_processor_batch_events_count') ?? 0;
  return {
    seconds: (lastAt - started) / 1000,
    rssBytes: peakRss,
    batches,
    meanBatch: (metrics.get('trident_processor_batch_events_sum') ?? 0) / Math.max(1, batches),
    inferenceSeconds: metrics.get('trident_processor_inference_seconds_sum') ?? 0,
    commitSeconds: metrics.get('trident_processor_commit_seconds_sum') ?? 0,
  };
}

async function main(): Promise<void> {
  const a = args();
  const dir = resolveModelDir(a.get('model'));
  const count = Number(a.get('texts') ?? 1024);
  const singleCount = Number(a.get('single-texts') ?? 256);
  const partitions = Number(a.get('partitions') ?? 6);
  const microBatch = Number(a.get('micro-batch') ?? 32);
  const batching = (a.get('batching') ?? 'per-input') as 'per-input' | 'mixed';
  if (batching !== 'per-input' && batching !== 'mixed') throw new Error(`--batching: expected per-input or mixed, got ${String(batching)}`);
  const threadsArg = a.get('threads');
  const threads = threadsArg === undefined ? undefined : Number(threadsArg);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
    throw new Error(`--threads: expected an integer ≥ 1, got ${threadsArg}`);
  // Unset: what the processor picks for this batching (model/pipeline.ts defaultSessions).
  const sessions = a.has('sessions') ? Number(a.get('sessions')) : defaultSessions(batching);
  if (!(Number.isInteger(sessions) && sessions >= 1)) throw new Error(`--sessions: expected an integer ≥ 1, got ${a.get('sessions')}`);
  const texts = benchTexts(count);
  console.log(
    `model ${dir}; ${count} texts, all four tasks, one question each; ${partitions} partitions; micro-batch ${microBatch}; batching ${batching}; sessions ${sessions}; threads per session ${threads ?? 'cores ÷ sessions'}`,
  );
  // The stack up (and idle) before the raw run: the raw baseline shares the cores with an idle
  // broker and registry, as the end-to-end runs do.
  await benchConfig(partitions);

  const rawSeconds = await rawEncoderSeconds(
    dir,
    texts.map((text, i) => ({
      id: String(i),
      text,
      questions: [['What is the review about?', 'Who is it about?', 'What did the critic think?'][i % 3]!],
    })),
    microBatch,
    batching,
    threads,
    sessions,
  );
  const raw = count / rawSeconds;
  const threadEnv: Record<string, string> = {
    TRIDENT_MODEL_SESSIONS: String(sessions),
    ...(threads ? { TRIDENT_MODEL_THREADS: String(threads) } : {}),
  };
  console.log(`raw encoder (same planned batches, 2 in flight per session): ${fmt(raw)} texts/s`);

  const batched = await endToEnd(
    texts,
    { TRIDENT_PROCESSOR_MAX_BATCH_EVENTS: String(microBatch), TRIDENT_MODEL_BATCHING: batching, ...threadEnv },
    'batched',
    dir,
    partitions,
  );
  const e2e = count / batched.seconds;
  console.log(
    `end-to-end micro-batched: ${fmt(e2e)} texts/s (${batched.batches} batches, mean ${fmt(batched.meanBatch)} events), processor peak RSS ${mb(batched.rssBytes)}`,
  );
  console.log(
    `  wall ${fmt(batched.seconds, 2)} s; summed over batches: model ${fmt(batched.inferenceSeconds, 2)} s, produce+commit ${fmt(batched.commitSeconds, 2)} s`,
  );

  const singleTexts = texts.slice(0, singleCount);
  const single = await endToEnd(
    singleTexts,
    {
      TRIDENT_PROCESSOR_MAX_BATCH_EVENTS: '1',
      TRIDENT_PROCESSOR_MAX_BATCH_WAIT_MS: '0',
      TRIDENT_PROCESSOR_MAX_IN_FLIGHT_BATCHES: '1',
      TRIDENT_MODEL_BATCHING: batching,
      ...threadEnv,
    },
    'single',
    dir,
    partitions,
  );
  const one = singleCount / single.seconds;
  console.log(`end-to-end one event at a time: ${fmt(one)} texts/s (${single.batches} batches)`);
  console.log(
    `  wall ${fmt(single.seconds, 2)} s; summed over batches: model ${fmt(single.inferenceSeconds, 2)} s, produce+commit ${fmt(single.commitSeconds, 2)} s`,
  );

  console.log(`\nend-to-end ÷ raw encoder: ${fmt(e2e / raw, 2)} (goal ≥ 0.90)`);
  console.log(`micro-batched ÷ one-at-a-time: ${fmt(e2e / one, 2)} (goal ≥ 3)`);
  process.exit(0);
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
