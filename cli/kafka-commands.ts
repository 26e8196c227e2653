/** `trident topics`, `trident schemas`, `trident produce`, `trident tail`: thin wiring over producers/ and consumers/. */
import { Option, type Command } from 'commander';
import { createKafka } from '../common/kafka';
import { ConfigError } from '../common/errors';
import { describeTopics, ensureTopics, topicSpecs } from '../common/topics';
import { EventCodec } from '../schemas/codec';
import { topicKinds } from '../schemas/catalog';
import { TridentProducer } from '../producers/producer';
import { produce, summaryLine } from '../producers/produce';
import { parseRate } from '../producers/rate';
import { tail } from '../consumers/tail';
import { ResultDedup, type ResultIdentity } from '../common/result-dedup';
import type { CliContext } from '../common/cli-context';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerKafkaCommands(program: Command, context: CliContext): void {
  const topics = program.command('topics').description('Trident topics on the broker');
  topics
    .command('create')
    .description('create every Trident topic that does not exist yet (partitions and replication from config)')
    .option('--partitions <n>', 'partitions per topic (default: topics.partitions)')
    .option('--replication <n>', 'replication factor (default: topics.replicationFactor)')
    .action(async (options: { partitions?: string; replication?: string }) => {
      const overrides: Record<string, unknown> = { topics: {} };
      if (options.partitions) (overrides.topics as Record<string, unknown>).partitions = Number(options.partitions);
      if (options.replication) (overrides.topics as Record<string, unknown>).replicationFactor = Number(options.replication);
      const config = context.config(overrides);
      const admin = createKafka(config, 'trident-cli').admin();
      await admin.connect();
      try {
        const created = await ensureTopics(admin, topicSpecs(config));
        console.error(created.length > 0 ? `created ${created.join(', ')}` : 'all topics exist');
        await EventCodec.fromConfig(config).registerAll();
        console.error('schemas registered');
      } finally {
        await admin.disconnect();
      }
    });
  topics
    .command('list')
    .description('list topics with partitions and replication')
    .option('--all', 'include topics that are not Trident’s')
    .action(async (options: { all?: boolean }) => {
      const config = context.config();
      const admin = createKafka(config, 'trident-cli').admin();
      await admin.connect();
      try {
        const ours = new Set(topicKinds.map((k) => config.topics[k]));
        for (const t of await describeTopics(admin)) {
          if (options.all || ours.has(t.name)) console.log(`${t.name}\tpartitions=${t.partitions}\treplication=${t.replicationFactor}`);
        }
      } finally {
        await admin.disconnect();
      }
    });

  program
    .command('schemas')
    .description('register every topic’s Avro schema in the registry (BACKWARD compatibility)')
    .action(async () => {
      await EventCodec.fromConfig(context.config()).registerAll();
      console.error(`registered ${topicKinds.length} subjects`);
    });

  program
    .command('produce')
    .description('send texts (or labeled feedback) to Trident')
    .argument('[text]', 'one text to send')
    .option('-f, --file <file>', 'JSON lines (.jsonl) or CSV (.csv) file, or - for stdin')
    .option('--tasks <tasks>', 'comma-separated tasks: sentiment,entities,answers,categories (default: all)')
    .option('-q, --question <question>', 'a question for the answers task (repeatable)', collect)
    .option('--key <key>', 'partition key for every event (default: each event’s id)')
    .option('--tenant <tenant>', 'tenant for every event')
    .option('--rate <rate>', 'at most N events per second (N/s or N/m)')
    .option('--feedback', 'the records are labeled feedback events (trident.feedback)')
    .option('--source <source>', 'who gives the feedback labels', 'cli')
    .option('--from-line <n>', 'start at input line N (1-based): resume an interrupted run without resending acknowledged lines')
    .option('--skip <n>', 'skip the first N input lines (the same as --from-line N+1)')
    .option(
      '--delivery-timeout <ms>',
      'how long a batch is retried through broker restarts before giving up (producer.deliveryTimeoutMs, default 120000)',
    )
    .addOption(new Option('--no-progress', 'no progress bar'))
    .action(
      async (
        text: string | undefined,
        options: {
          file?: string;
          tasks?: string;
          question?: string[];
          key?: string;
          tenant?: string;
          rate?: string;
          feedback?: boolean;
          source: string;
          progress: boolean;
          fromLine?: string;
          skip?: string;
          deliveryTimeout?: string;
        },
      ) => {
        if ((text === undefined) === (options.file === undefined)) throw new Error('give either a TEXT argument or --file (not both)');
        const fromLine = startLine(options.fromLine, options.skip);
        const config = context.config(
          options.deliveryTimeout !== undefined ? { producer: { deliveryTimeoutMs: Number(options.deliveryTimeout) } } : undefined,
        );
        const kafka = createKafka(config, 'trident-producer');
        const producer = new TridentProducer(kafka, EventCodec.fromConfig(config), config);
        try {
          const summary = await produce(producer, config, {
            text,
            file: options.file,
            feedback: options.feedback,
            source: options.source,
            ratePerSecond: options.rate ? parseRate(options.rate) : undefined,
            progress: options.progress && process.stderr.isTTY,
            fromLine,
            defaults: {
              tasks: options.tasks
                ? options.tasks
                    .split(',')
                    .map((t) => t.trim())
                    .filter(Boolean)
                : undefined,
              questions: options.question,
              key: options.key,
              tenant: options.tenant,
            },
          });
          if (text !== undefined && summary.ids[0]) console.log(summary.ids[0]);
          console.error(summaryLine(summary));
          if (summary.rejected > 0) process.exitCode = 1;
        } finally {
          await producer.disconnect();
        }
      },
    );

  program
    .command('tail')
    .description('print a Trident topic as JSON lines (topic kind like "sentiment", or a topic name)')
    .argument('<topic>', `one of ${topicKinds.join(', ')}, or a configured topic name`)
    .option('--from-beginning', 'start at the oldest record (then stop at the end unless --follow)')
    .option('--follow', 'keep waiting for new records')
    .option('--max <n>', 'stop after N records')
    .option('--timeout <seconds>', 'stop after this many seconds')
    .option('--read-uncommitted', 'also show records of open or aborted transactions')
    .option('--meta', 'wrap each record with topic, partition, offset and key')
    .option('--dedupe', 'drop repeated results (same topic, tenant and id): for processor.delivery at-least-once')
    .action(
      async (
        topic: string,
        options: {
          fromBeginning?: boolean;
          follow?: boolean;
          max?: string;
          timeout?: string;
          readUncommitted?: boolean;
          meta?: boolean;
          dedupe?: boolean;
        },
      ) => {
        const config = context.config();
        const kafka = createKafka(config, 'trident-tail');
        const codec = EventCodec.fromConfig(config);
        const dedup = options.dedupe ? new ResultDedup() : null;
        const count = await tail(
          kafka,
          codec,
          config,
          {
            topic,
            fromBeginning: options.fromBeginning,
            follow: options.follow,
            max: options.max !== undefined ? Number(options.max) : undefined,
            timeoutSeconds: options.timeout !== undefined ? Number(options.timeout) : undefined,
            readUncommitted: options.readUncommitted,
          },
          (record) => {
            const value = record.value as ResultIdentity | null;
            if (dedup && value && typeof value.id === 'string' && !dedup.first(record.topic, value)) return;
            const line = options.meta
              ? record
              : record.error
                ? { error: record.error, offset: record.offset, partition: record.partition }
                : record.value;
            process.stdout.write(
              JSON.stringify(line, (_k, v) =>
                v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('base64') : v,
              ) + '\n',
            );
          },
        );
        console.error(`${count} records${dedup ? ` (${dedup.duplicates} repeated results dropped)` : ''}`);
      },
    );
}

/** The first line to send from --from-line N or --skip N (not both). @throws ConfigError naming the flag. */
export function startLine(fromLine: string | undefined, skip: string | undefined): number {
  if (fromLine !== undefined && skip !== undefined) throw new ConfigError('--from-line', 'give --from-line or --skip, not both');
  const parse = (flag: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new ConfigError(flag, `expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
  if (fromLine !== undefined) return parse('--from-line', fromLine, 1);
  if (skip !== undefined) return parse('--skip', skip, 0) + 1;
  return 1;
}
