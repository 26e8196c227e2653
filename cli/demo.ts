/**
 * `trident demo` (what `npm start` runs): brings the local stack up, creates the topics, starts the
 * processor, streams the demo texts that ship with the repo, and prints each result as it arrives
 * on the per-task topics (read_committed). Then it stops the processor; the stack keeps running.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { ensureTopics, topicSpecs } from '../common/topics';
import { modelErrorCodes } from '../common/error-codes';
import { TridentError } from '../common/errors';
import { EventCodec } from '../schemas/codec';
import type { AnswersResult } from '../schemas/generated/answers';
import type { CategoriesResult } from '../schemas/generated/categories';
import type { EntitiesResult } from '../schemas/generated/entities';
import type { SentimentResult } from '../schemas/generated/sentiment';
import { stackUp, localStackOverrides } from '../stack/stack';
import { TridentProducer } from '../producers/producer';
import { produce, summaryLine } from '../producers/produce';
import { readRecords } from '../producers/input';
import { resolveModelDir } from '../model/artifacts';
import { startProcessor } from '../consumers/cli';
import type { CliContext } from '../common/cli-context';
import { builtInTasks, type TaskName } from '../common/tasks';

const repoRoot = (() => {
  const parts = __dirname.split(/[\\/]/);
  return parts[parts.length - 2] === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');
})();
export const demoFile = join(repoRoot, 'producers', 'demo-texts.jsonl');

/** The released model when there is one; otherwise the tiny test model, said out loud. */
function demoModel(config: TridentConfig, say: (line: string) => void): string {
  try {
    return resolveModelDir(config.model.path);
  } catch (error) {
    if ((error as TridentError).code !== modelErrorCodes.MODEL_NOT_FOUND) throw error;
    say(
      '    no released model under model/artifacts/: using model/test-artifact (random weights — the results show the plumbing, not quality)',
    );
    return join(repoRoot, 'model', 'test-artifact');
  }
}

export function registerDemoCommand(program: Command, context: CliContext): void {
  program
    .command('demo')
    .description('start the local stack and the processor, stream the demo texts and print their results (npm start)')
    .option('--file <file>', 'texts to stream (JSON lines)', demoFile)
    .option('--timeout <seconds>', 'give up waiting for results after this long', '120')
    .action(async (options: { file: string; timeout: string }) => {
      const say = (line: string) => console.error(line);
      // The demo talks to people: only warnings and errors from the stages' JSON logs.
      process.env.TRIDENT_LOG_LEVEL ??= 'warn';
      const base = context.config();
      say('1/5 starting the local stack (the first run downloads Kafka and the registry)…');
      const services = await stackUp(base, (line) => say(`    ${line}`));
      for (const s of services) say(`    ${s.name} at ${s.address}`);
      const model = demoModel(base, say);
      const config = context.config({ ...localStackOverrides(base), model: { path: model } });

      say('2/5 creating topics and registering schemas…');
      const kafka = createKafka(config, 'trident-demo');
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, topicSpecs(config));
      await admin.disconnect();
      const codec = EventCodec.fromConfig(config);
      await codec.registerAll();

      say(`3/5 starting the processor (model ${model})…`);
      const processor = await startProcessor(config);

      // Listen from the current end of each result topic before producing, so only this run's results show.
      const consumer = kafka.consumer({ groupId: `trident-demo-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.connect();
      await consumer.subscribe({ topics: builtInTasks.map((k) => config.topics[k]), fromBeginning: false });
      const expected = new Map<string, number>();
      let received = 0;
      let allArrived: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (allArrived = resolve));
      const kindOf = new Map<string, TaskName>(builtInTasks.map((k) => [config.topics[k], k]));
      await consumer.run({
        eachMessage: async ({ topic, message }) => {
          const kind = kindOf.get(topic)!;
          const result = (await codec.decode(kind, message.value)) as unknown as Record<string, unknown> & { id: string };
          if (!expected.has(result.id)) return;
          console.log(describe(kind, result));
          received += 1;
          if (received >= [...expected.values()].reduce((a, b) => a + b, 0)) allArrived();
        },
      });
      await joined;

      say(`4/5 producing ${options.file} to ${config.topics.text}…`);
      for await (const item of readRecords(options.file)) {
        if ('raw' in item) {
          const raw = item.raw as { id?: string; tasks?: string[] | null };
          if (raw.id) expected.set(String(raw.id), (raw.tasks ?? config.processor.defaultTasks).length);
        }
      }
      const producer = new TridentProducer(kafka, codec, config);
      const summary = await produce(producer, config, { file: options.file, defaults: {}, progress: false });
      await producer.disconnect();
      say(`    ${summaryLine(summary)}`);

      say('5/5 results as they arrive (read_committed):');
      const timer = setTimeout(allArrived, Number(options.timeout) * 1000);
      await done;
      clearTimeout(timer);
      const total = [...expected.values()].reduce((a, b) => a + b, 0);
      await consumer.disconnect();
      await processor.close();
      say(
        `done: ${received}/${total} results for ${summary.sent} texts. The stack keeps running (\`npx trident stack down\` stops it); \`npx trident serve\` runs the processor, \`npx trident gateway\` the live page.`,
      );
      if (received < total) process.exitCode = 1;
    });
}

function describe(kind: TaskName, result: Record<string, unknown> & { id: string }): string {
  switch (kind) {
    case 'sentiment': {
      const r = result as unknown as SentimentResult;
      return `${r.id}  sentiment   ${r.label} (${r.scores[r.label]!.toFixed(2)})`;
    }
    case 'entities': {
      const r = result as unknown as EntitiesResult;
      return `${r.id}  entities    ${r.entities.map((e) => `${e.text} [${e.label}]`).join(', ') || '(none)'}`;
    }
    case 'answers': {
      const r = result as unknown as AnswersResult;
      return `${r.id}  answers     ${r.answers.map((a) => `${a.question} → ${a.answer === null ? '(no answer)' : JSON.stringify(a.answer)} (${a.score.toFixed(2)})`).join('; ')}`;
    }
    case 'categories': {
      const r = result as unknown as CategoriesResult;
      return `${r.id}  categories  ${Object.entries(r.categories)
        .map(
          ([head, top]) =>
            `${head}: ${top
              .slice(0, 2)
              .map((c) => `${c.label} (${c.score.toFixed(2)})`)
              .join(', ')}`,
        )
        .join('; ')}`;
    }
  }
}
