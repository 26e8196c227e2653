/**
 * `trident replay` against `trident predict --file` on the same texts, in the same run: both as the
 * CLI a user runs (a fresh process each, model load included), alternating, best of `--repeat`.
 * Replay reads the texts back from a topic (read_committed), scores and writes its report too.
 *
 *   npm run build && node dist/bench/replay-throughput.js [--model DIR] [--texts 512] [--repeat 2]
 *
 * Goal: replay ÷ predict ≥ 0.90 (texts/s).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveModelDir } from '../model/artifacts';
import { args, benchTexts } from './encoder-common';
import { benchConfig } from './processor-common';

const QUESTIONS = ['What is the review about?', 'Who is it about?', 'What did the critic think?'];
const cli = path.resolve(__dirname, '..', '..', 'bin', 'trident.js');

function timed(argv: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...argv], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`trident ${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return seconds;
}

async function main(): Promise<void> {
  const opts = args();
  const model = resolveModelDir(opts.get('model'));
  const count = Number(opts.get('texts') ?? 512);
  const repeat = Number(opts.get('repeat') ?? 2);
  const { env } = await benchConfig(3);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trident-bench-replay-'));
  try {
    const file = path.join(dir, 'texts.jsonl');
    writeFileSync(
      file,
      benchTexts(count)
        .map((text, i) => JSON.stringify({ id: `b${i}`, text, questions: [QUESTIONS[i % 3]] }))
        .join('\n') + '\n',
    );
    timed(['produce', '--file', file, '--no-progress'], env);
    const predict: number[] = [];
    const replay: number[] = [];
    let modelRate = 0;
    for (let r = 0; r < repeat; r++) {
      predict.push(timed(['predict', '--file', file, '--out', path.join(dir, 'predict.jsonl'), '--model', model], env));
      replay.push(timed(['replay', '--models', model, '--out', path.join(dir, 'replay')], env));
      const report = JSON.parse(readFileSync(path.join(dir, 'replay', 'report.json'), 'utf8')) as {
        runtime: Record<string, { texts_per_s: number }>;
        events: { evaluated: number };
      };
      if (report.events.evaluated !== count) throw new Error(`replay evaluated ${report.events.evaluated} of ${count} texts`);
      modelRate = Math.max(modelRate, Object.values(report.runtime)[0].texts_per_s);
    }
    const p = count / Math.min(...predict);
    const q = count / Math.min(...replay);
    console.log(
      `model ${path.basename(model)}, ${count} texts (all tasks, one question each), best of ${repeat}, wall time of the CLI including model load`,
    );
    console.log(`predict --file: ${Math.min(...predict).toFixed(2)} s, ${p.toFixed(1)} texts/s`);
    console.log(
      `replay:         ${Math.min(...replay).toFixed(2)} s, ${q.toFixed(1)} texts/s (model alone in replay: ${modelRate.toFixed(1)} texts/s)`,
    );
    console.log(`replay ÷ predict: ${(q / p).toFixed(2)} (goal ≥ 0.90)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
