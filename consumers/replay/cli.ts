/** `trident replay`: wiring of the command line, progress bar and Ctrl-C to consumers/replay/replay.ts. */
import * as path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import type { CliContext } from '../../common/cli-context';
import { createKafka } from '../../common/kafka';
import { TridentError } from '../../common/errors';
import { EventCodec } from '../../schemas/codec';
import { parseModelSpecs } from '../../model/evaluation/models';
import { summaryLines } from '../../model/evaluation/cli';
import { resolveTopic } from '../tail';
import { replay } from './replay';

interface ReplayCliOptions {
  topic: string;
  from?: string;
  to?: string;
  max?: string;
  partitions?: string;
  models: string;
  labels?: string;
  out: string;
  toTopic?: string;
}

export function registerReplayCommand(program: Command, context: CliContext): void {
  program
    .command('replay')
    .description(
      'replay a range of an input topic (read_committed) through one or two models offline: report.json, report.html, predictions.jsonl',
    )
    .requiredOption('--models <a[,b]>', 'one or two models: artifact folders or registry versions (1.1.0, NAME@VERSION, production)')
    .requiredOption('--out <dir>', 'folder for report.json, report.html and predictions.jsonl')
    .option('--topic <topic>', 'input topic kind or name', 'text')
    .option(
      '--from <bound>',
      'start: ISO timestamp, duration back from now (2h, 30m, 1d) or partition:offset list (0:100,1:250); default: the beginning',
    )
    .option('--to <bound>', 'end (exclusive), same forms; default: the end the topic has now')
    .option('--max <n>', 'read at most N events')
    .option('--partitions <list>', 'only these partitions, e.g. 0,2')
    .option('--labels <source>', '"feedback" (join trident.feedback by the text event id) or a labeled JSON-lines file')
    .option('--to-topic <prefix>', 'also write results to shadow topics <prefix>.<task> (<prefix>.<model>.<task> for two models)')
    .action(async (options: ReplayCliOptions) => {
      const config = context.config();
      const models = parseModelSpecs(options.models);
      const { topic } = resolveTopic(config, options.topic);
      const max = options.max === undefined ? undefined : Number(options.max);
      if (max !== undefined && !(Number.isInteger(max) && max > 0))
        throw new TridentError('CLI_USAGE', `--max ${options.max}: expected a positive integer`);
      const kafka = createKafka(config, `trident-replay-${process.pid}`);
      const bar = new SingleBar(
        { format: 'replay [{bar}] {value}/{total} events | {rate} events/s | {eta_formatted} left', stream: process.stderr, etaBuffer: 50 },
        Presets.shades_classic,
      );
      let interrupted: string | null = null;
      // First Ctrl-C: finish the chunk in flight and write a partial report; a second one exits at once.
      const onSignal = (signal: NodeJS.Signals): void => {
        if (interrupted) process.exit(130);
        interrupted = `interrupted (${signal})`;
        process.stderr.write(`\nreplay: ${signal} — finishing the current chunk and writing a partial report (Ctrl-C again to quit now)\n`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const started = Date.now();
      try {
        const report = await replay(kafka, EventCodec.fromConfig(config), config, {
          topic,
          models,
          out: options.out,
          ...(options.from ? { from: options.from } : {}),
          ...(options.to ? { to: options.to } : {}),
          ...(max !== undefined ? { max } : {}),
          ...(options.partitions ? { partitions: options.partitions } : {}),
          ...(options.labels ? { labels: options.labels } : {}),
          ...(options.toTopic ? { toTopic: options.toTopic } : {}),
          onStart: (total) => bar.start(total, 0, { rate: '0' }),
          onProgress: (done) => bar.update(done, { rate: (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) }),
          interrupted: () => interrupted,
        });
        bar.stop();
        for (const line of summaryLines(report)) process.stderr.write(line + '\n');
        const l = report.labels;
        if (l.source !== 'none')
          process.stderr.write(
            `labels from ${l.source}: ${l.read} read, ${l.matched} ids matched, ${l.without_event} ids not in the range\n`,
          );
        process.stderr.write(
          `replay: ${report.partial ? 'PARTIAL report (' + report.partial_reason + ')' : 'report'} in ${path.join(options.out, 'report.json')}, report.html, predictions.jsonl\n`,
        );
        if (report.partial) process.exitCode = 130;
      } finally {
        bar.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
