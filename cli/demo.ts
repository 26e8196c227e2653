/**
 * `trident demo` (what `npm start` runs): brings the local stack up, creates the topics, streams the
 * demo texts that ship with the repo and prints what arrives. When the processor is built, the demo
 * starts it and prints results from the task topics instead of the input topic.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { createKafka } from '../common/kafka';
import { ensureTopics, topicSpecs } from '../common/topics';
import { EventCodec } from '../schemas/codec';
import { stackUp, localStackOverrides } from '../stack/stack';
import { TridentProducer } from '../producers/producer';
import { produce, summaryLine } from '../producers/produce';
import { tail } from '../consumers/tail';
import type { CliContext } from './main';

export const demoFile = (() => {
  const parts = __dirname.split(/[\\/]/);
  const root = parts[parts.length - 2] === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');
  return join(root, 'producers', 'demo-texts.jsonl');
})();

export function registerDemoCommand(program: Command, context: CliContext): void {
  program
    .command('demo')
    .description('start the local stack and stream the demo texts through it (npm start)')
    .option('--file <file>', 'texts to stream (JSON lines)', demoFile)
    .action(async (options: { file: string }) => {
      const base = context.config();
      console.error('1/4 starting the local stack (first run downloads Kafka and the registry)…');
      const services = await stackUp(base, (line) => console.error(`    ${line}`));
      for (const s of services) console.error(`    ${s.name} at ${s.address}`);
      const config = context.config(localStackOverrides(base));

      console.error('2/4 creating topics and registering schemas…');
      const kafka = createKafka(config, 'trident-demo');
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, topicSpecs(config));
      await admin.disconnect();
      const codec = EventCodec.fromConfig(config);
      await codec.registerAll();

      console.error(`3/4 producing ${options.file} to ${config.topics.text}…`);
      const producer = new TridentProducer(kafka, codec, config);
      const summary = await produce(producer, config, { file: options.file, defaults: {}, progress: false });
      await producer.disconnect();
      console.error(`    ${summaryLine(summary)}`);

      console.error(`4/4 reading ${config.topics.text} back (read_committed)…`);
      const wanted = new Set(summary.ids);
      let seen = 0;
      await tail(kafka, codec, config, { topic: 'text', fromBeginning: true, follow: true, timeoutSeconds: 30 }, (record) => {
        const event = record.value as { id: string; text: string; tasks: string[] | null };
        if (!wanted.has(event?.id)) return false;
        wanted.delete(event.id);
        seen += 1;
        console.log(JSON.stringify({ partition: record.partition, offset: record.offset, id: event.id, tasks: event.tasks ?? 'all', text: event.text }));
        return wanted.size === 0;
      });
      console.error(`done: ${seen}/${summary.ids.length} demo events streamed through ${config.kafka.brokers.join(',')}. The stack keeps running: \`npx trident stack down\` stops it.`);
    });
}
