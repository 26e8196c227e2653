/**
 * Raw encoder throughput (texts/s) by batch size and padding policy, int8 vs fp32, worker vs main
 * thread — all in one run, as ratios to the first row (int8, batch 1, worker). Then sessions ×
 * intra-op threads (one session with a thread per core, one with one thread, one session per core
 * with one thread each, fed round-robin) at batch 1 (what `per-input` batching runs) and 32, as
 * ratios to one session with a thread per core (the processor's default).
 *
 *   npm run build && node dist/bench/encoder-throughput.js [--model DIR] [--fp32 FILE] [--texts 256] [--batch 1,8,32,64] [--repeat 3] [--sessions-only]
 *
 * fp32: the artifact ships only the int8 encoder; pass `--fp32` with an fp32 export of the same
 * encoder (or put `encoder.fp32.onnx` beside it), else that part is skipped with a note.
 */
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Encoder, InlineEncoder, WorkerEncoder } from '../model/encoder';
import { loadManifest } from '../model/manifest';
import { batchFeeds, makeBatches } from '../model/batches';
import { caseIdsOf, TextTokenizer } from '../model/tokenize';
import { textRows } from '../model/windows';
import { resolveModelDir } from '../model/artifacts';
import { args, benchTexts, cloneFeeds, fmt, withLoopLag } from './encoder-common';

async function main(): Promise<void> {
  const a = args();
  const dir = resolveModelDir(a.get('model'));
  const { manifest } = loadManifest(dir);
  const count = Number(a.get('texts') ?? 256);
  const texts = benchTexts(count);
  const tokenizer = TextTokenizer.fromFile(path.join(dir, manifest.tokenizer.file));
  const casing = manifest.casing ? manifest.casing.input : null;
  const tokenized = await tokenizer.tokenizeBatch(texts);
  // One window per text here (sst2 sentences are short); longer texts would add rows.
  const jobs = tokenized.flatMap((t) => {
    const caseIds = casing ? caseIdsOf(t) : null;
    return textRows(t.ids, manifest.max_length, manifest.stride, tokenizer.specials).map((row) => ({
      row,
      caseIds: caseIds ? Int32Array.from(row.tokenIndex, (i) => (i >= 0 ? caseIds[i] : 0)) : null,
    }));
  });
  const realTokens = jobs.reduce((n, j) => n + j.row.ids.length, 0);
  const fp32 = a.get('fp32') ?? path.join(dir, 'encoder.fp32.onnx');
  console.log(
    `model ${manifest.name}-${manifest.version} (${dir}); ${count} texts, ${jobs.length} rows, ${realTokens} tokens; ${os.cpus().length} cores; node ${process.version}`,
  );

  const encoders: Array<{ name: string; open: () => Promise<Encoder> }> = [
    { name: 'int8 worker', open: () => WorkerEncoder.open(path.join(dir, manifest.encoder.file), { maxQueued: 1024 }) },
    { name: 'int8 main-thread', open: () => InlineEncoder.open(path.join(dir, manifest.encoder.file)) },
  ];
  if (existsSync(fp32)) encoders.push({ name: 'fp32 worker', open: () => WorkerEncoder.open(fp32, { maxQueued: 1024 }) });
  else console.log(`note: no fp32 encoder (${fp32}); fp32 rows skipped — the artifact keeps only int8`);

  const repeat = Number(a.get('repeat') ?? 3);
  const sizes = (a.get('batch') ?? '1,8,32,64').split(',').map(Number);
  let baseline = 0;
  if (!a.has('sessions-only')) console.log('\nencoder            batch  padding  texts/s  ratio  pad-overhead  loop-worst-gap');
  for (const { name, open } of a.has('sessions-only') ? [] : encoders) {
    const encoder = await open();
    const output = manifest.encoder.outputs[0];
    for (const size of name.includes('main-thread') ? [32] : sizes) {
      for (const padding of ['sorted', 'arrival'] as const) {
        const batches = makeBatches(jobs, size, 1 << 30, padding).map((b) =>
          batchFeeds(b, manifest.encoder.inputs, tokenizer.specials.pad, casing),
        );
        const padded = batches.reduce((n, b) => n + b.feeds[manifest.encoder.inputs[0]].data.length, 0);
        await encoder.run(cloneFeeds(batches[0].feeds), output); // warm-up
        // Best of `--repeat` runs: on a shared machine noise only ever slows a run down.
        let seconds = Infinity;
        let worstGapMs = 0;
        for (let r = 0; r < repeat; r++) {
          const copies = batches.map((b) => cloneFeeds(b.feeds));
          const started = performance.now();
          const lag = await withLoopLag(async () => {
            if (encoder instanceof WorkerEncoder) return Promise.all(copies.map((f) => encoder.run(f, output)));
            for (const f of copies) await encoder.run(f, output); // main thread: one at a time
            return [];
          });
          seconds = Math.min(seconds, (performance.now() - started) / 1000);
          worstGapMs = Math.max(worstGapMs, lag.worstGapMs);
        }
        const rate = count / seconds;
        if (baseline === 0) baseline = rate;
        console.log(
          `${name.padEnd(18)} ${String(size).padStart(5)}  ${padding.padEnd(7)}  ${fmt(rate).padStart(7)}  ${fmt(rate / baseline, 2).padStart(5)}  ${fmt(padded / realTokens, 2).padStart(12)}  ${fmt(worstGapMs).padStart(11)} ms`,
        );
      }
    }
    await encoder.close();
  }

  // Sessions × threads: does the encoder use the cores better as one session with a thread per core
  // (the processor's default) or as one single-threaded session per core, fed in turn?
  const cores = os.cpus().length;
  const file = path.join(dir, manifest.encoder.file);
  const layouts = [
    { name: `1 session × ${cores} threads`, sessions: 1, threads: cores },
    { name: '1 session × 1 thread', sessions: 1, threads: 1 },
    { name: `${cores} sessions × 1 thread`, sessions: cores, threads: 1 },
  ];
  console.log('\nlayout                  batch  texts/s  ratio');
  for (const size of [1, 32]) {
    const batches = makeBatches(jobs, size, 1 << 30, 'sorted').map((b) =>
      batchFeeds(b, manifest.encoder.inputs, tokenizer.specials.pad, casing),
    );
    let first = 0;
    for (const layout of layouts) {
      const sessions = await Promise.all(
        Array.from({ length: layout.sessions }, () => WorkerEncoder.open(file, { maxQueued: 1024, threads: layout.threads })),
      );
      const output = manifest.encoder.outputs[0];
      for (const session of sessions) await session.run(cloneFeeds(batches[0]!.feeds), output); // warm-up
      let seconds = Infinity;
      for (let r = 0; r < repeat; r++) {
        const copies = batches.map((b) => cloneFeeds(b.feeds));
        const started = performance.now();
        await Promise.all(copies.map((f, i) => sessions[i % sessions.length]!.run(f, output)));
        seconds = Math.min(seconds, (performance.now() - started) / 1000);
      }
      await Promise.all(sessions.map((session) => session.close()));
      const rate = count / seconds;
      if (first === 0) first = rate;
      console.log(`${layout.name.padEnd(22)} ${String(size).padStart(6)}  ${fmt(rate).padStart(7)}  ${fmt(rate / first, 2).padStart(5)}`);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
