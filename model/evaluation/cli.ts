/** `trident eval`: a labeled JSON-lines file through one or two models, no Kafka; the report of `trident replay`. */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { TridentError } from '../../common/errors';
import { parseLabeledLines } from './labels';
import { ModelSet, parseModelSpecs, registryResolver, type ModelResolver } from './models';
import type { CliContext } from '../../common/cli-context';
import { EvaluationRun, type Report } from './run';

export interface EvalFileOptions {
  file: string;
  models: string[];
  out: string;
  /** Events per model call. Default 256 (as `trident predict --file`). */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** How a `--models` spec becomes an artifact folder (default: folders only). */
  resolve?: ModelResolver;
}

/**
 * Evaluates a labeled file (model/evaluation/labels.ts) and writes report.json, report.html and
 * predictions.jsonl into `out`. Does not block. Throws LabelError on a bad line, TridentError
 * UNKNOWN_MODEL for a model that cannot be resolved, CLI_USAGE for a missing file.
 */
export async function evaluateFile(options: EvalFileOptions): Promise<Report> {
  if (!existsSync(options.file)) throw new TridentError('CLI_USAGE', `${options.file}: no such file`);
  const lines = readFileSync(options.file, 'utf8').split(/\r?\n/);
  const texts = parseLabeledLines(lines, options.file);
  if (texts.length === 0) throw new TridentError('EVAL_EMPTY', `${options.file}: no labeled lines`);
  const models = await ModelSet.load(options.models, options.resolve);
  try {
    const run = new EvaluationRun(models, options.out);
    const chunkSize = options.chunkSize ?? 256;
    let done = 0;
    for (let i = 0; i < texts.length; i += chunkSize) {
      const chunk = texts
        .slice(i, i + chunkSize)
        .map((t) => ({ input: { id: t.id, text: t.text, ...(t.questions.length ? { questions: t.questions } : {}) }, gold: t.gold }));
      await run.add(chunk);
      done += chunk.length;
      options.onProgress?.(done, texts.length);
    }
    const labelLines = lines.filter((l) => l.trim() !== '').length;
    return await run.finish({
      source: { file: path.resolve(options.file) },
      range: { file: path.resolve(options.file), lines: labelLines, texts: texts.length },
      // Every label of the file belongs to a text of the file (parseLabeledLines guarantees it).
      labels: { source: options.file, read: labelLines, matched: texts.length, without_event: 0, ids_without_event_sample: [] },
    });
  } finally {
    await models.close();
  }
}

/** One line per model and task: the headline numbers, for the terminal. */
export function summaryLines(report: Report): string[] {
  const lines: string[] = [];
  for (const [model, tasks] of Object.entries(report.models)) {
    for (const [task, m] of Object.entries(tasks)) {
      const x = m as Record<string, number>;
      const main =
        task === 'entities'
          ? `F1 ${fmt(x.f1)}`
          : task === 'answers'
            ? `EM ${fmt(x.exact_match)} F1 ${fmt(x.f1)}`
            : `accuracy ${fmt(x.accuracy)} macro-F1 ${fmt(x.macro_f1)}`;
      lines.push(`${model}  ${task}  n=${x.n}  ${main}  ECE ${x.ece.toFixed(3)}`);
    }
    const rt = report.runtime[model];
    lines.push(`${model}  ${rt.texts} texts in ${rt.seconds.toFixed(1)} s (${rt.texts_per_s} texts/s)`);
  }
  for (const [task, ab] of Object.entries(report.ab ?? {})) {
    lines.push(
      `A/B ${task}: ${ab.metric} ${signed(ab.delta)} [${signed(ab.ci95[0])}, ${signed(ab.ci95[1])}], agreement ${fmt(ab.agreement)}`,
    );
  }
  if (report.skipped.total > 0)
    lines.push(
      `skipped ${report.skipped.total}: ${Object.entries(report.skipped.by_code)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}`,
    );
  return lines;
}

const fmt = (x: number): string => `${(x * 100).toFixed(1)}%`;
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

export function registerEvalCommand(program: Command, context: CliContext): void {
  program
    .command('eval')
    .description('evaluate one or two models on a labeled JSON-lines file, no Kafka: report.json, report.html, predictions.jsonl')
    .requiredOption(
      '--file <labeled.jsonl>',
      'labeled lines: {"id","text","task","label"|"entities"|"answer"} (model/evaluation/labels.ts)',
    )
    .requiredOption('--models <a[,b]>', 'one or two models: artifact folders or registry versions (1.1.0, NAME@VERSION, production)')
    .requiredOption('--out <dir>', 'folder for report.json, report.html and predictions.jsonl')
    .action(async (options: { file: string; models: string; out: string }) => {
      const bar = new SingleBar(
        { format: 'eval [{bar}] {value}/{total} texts | {rate} texts/s | {eta_formatted} left', stream: process.stderr, etaBuffer: 50 },
        Presets.shades_classic,
      );
      const started = Date.now();
      let begun = false;
      try {
        const report = await evaluateFile({
          file: options.file,
          models: parseModelSpecs(options.models),
          out: options.out,
          resolve: registryResolver(context.config()),
          onProgress: (done, total) => {
            if (!begun) bar.start(total, 0, { rate: '0' });
            begun = true;
            bar.update(done, { rate: (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) });
          },
        });
        bar.stop();
        for (const line of summaryLines(report)) process.stderr.write(line + '\n');
        process.stderr.write(`eval: wrote ${path.join(options.out, 'report.json')}, report.html and predictions.jsonl\n`);
      } finally {
        bar.stop();
      }
    });
}
