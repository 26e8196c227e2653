/** `trident predict`: the model on one text or a JSON-lines file, no Kafka needed. */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { cliErrorCodes } from '../common/error-codes';
import { TridentError } from '../common/errors';
import { builtInTasks } from '../common/tasks';
import { loadConfig } from '../common/config';
import type { CliContext } from '../common/cli-context';
import { Pipeline } from './pipeline';
import { predictJsonLines } from './predict-file';
import { checkTasks } from './validate';

interface PredictOptions {
  tasks?: string;
  question: string[];
  file?: string;
  out?: string;
  model?: string;
  batchSize?: string;
  maxChars?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line.trim() !== '') n++;
  return n;
}

/** Registers `trident predict` on the program. `context` (the CLI's config access) is needed for registry versions. */
export function registerPredictCommand(program: Command, context?: CliContext): void {
  program
    .command('predict')
    .description('run the model on a text, or offline over a JSON-lines file ({id, text, questions?} per line)')
    .argument('[text]', 'the text to analyse')
    .option('--tasks <list>', `comma-separated tasks (${builtInTasks.join(', ')}); default: all the artifact serves`)
    .option('--question <q>', 'a question to answer from the text (repeatable)', collect, [])
    .option('--file <in.jsonl>', 'read inputs from a JSON-lines file instead')
    .option('--out <out.jsonl>', 'write outputs here (default: stdout)')
    .option(
      '--model <dir|version>',
      'artifact folder, or a registry version: 1.1.0, NAME@VERSION, production (default: $TRIDENT_MODEL_DIR or the newest under model/artifacts/)',
    )
    .option('--batch-size <n>', 'windows per encoder batch', '32')
    .option('--max-chars <n>', 'longest accepted text in characters (longer inputs are rejected, never truncated)')
    .action(async (text: string | undefined, options: PredictOptions) => {
      if ((text === undefined) === (options.file === undefined)) {
        throw new TridentError(cliErrorCodes.CLI_USAGE, 'predict needs either a TEXT argument or --file IN.jsonl');
      }
      // A registry version (1.1.0, NAME@VERSION, production) is fetched from the store; a folder is used as it is.
      const { resolveModelArgument } = await import('./registry/resolve');
      const config = context?.config() ?? loadConfig();
      const { dir } = await resolveModelArgument(options.model, config);
      // model.batching (TRIDENT_MODEL_BATCHING), threads and sessions as the processor reads them; unset: the artifact's default batching.
      const pipeline = await Pipeline.load(dir, {
        batchSize: Number(options.batchSize),
        ...(config.model.batching ? { batching: config.model.batching } : {}),
        ...(config.model.threads > 0 ? { threads: config.model.threads } : {}),
        ...(config.model.sessions > 0 ? { sessions: config.model.sessions } : {}),
        ...(options.maxChars ? { maxChars: Number(options.maxChars) } : {}),
      });
      try {
        const defaults = pipeline.tasks.filter((t) => t !== 'answers' || options.question.length > 0 || options.file);
        const tasks = options.tasks
          ? checkTasks(
              options.tasks
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean),
              '--tasks',
            )
          : defaults;
        if (text !== undefined) {
          const questions = options.question.length > 0 ? { questions: options.question } : {};
          const [result] = await pipeline.run([{ id: 'cli', text, ...questions }], tasks);
          const json = JSON.stringify(result, null, 2);
          if (options.out) createWriteStream(options.out).end(json + '\n');
          else process.stdout.write(json + '\n');
          return;
        }
        await predictFile(pipeline, options.file!, options.out, tasks);
      } finally {
        await pipeline.close();
      }
    });
}

async function predictFile(pipeline: Pipeline, file: string, out: string | undefined, tasks: readonly string[]): Promise<void> {
  if (!existsSync(file)) throw new TridentError(cliErrorCodes.CLI_USAGE, `${file}: no such file`);
  const total = await countLines(file);
  const sink = out ? createWriteStream(out) : process.stdout;
  const bar = new SingleBar(
    { format: 'predict [{bar}] {value}/{total} inputs | {eta}s left', stream: process.stderr },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  const write = (line: string): Promise<void> | void => {
    if (!sink.write(line + '\n')) return new Promise((resolve) => sink.once('drain', () => resolve()));
  };
  try {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    const result = await predictJsonLines(pipeline, lines, write, { tasks, onProgress: (done) => bar.update(done) });
    bar.stop();
    process.stderr.write(`predict: ${result.lines} inputs, ${result.errors} rejected${out ? `, written to ${out}` : ''}\n`);
  } finally {
    bar.stop();
    if (out)
      await new Promise<void>((resolve, reject) =>
        (sink as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
  }
}
