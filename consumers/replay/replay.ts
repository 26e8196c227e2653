/**
 * `trident replay`: a range of an input topic through one or two models offline. Decode and
 * validation failures are counted by their dead-letter code (never fatal); results go to
 * predictions.jsonl and the report, and to shadow topics only when asked — never to the production
 * result topics. Commits nothing.
 */
import { readFileSync, existsSync } from 'node:fs';
import type { Kafka, Producer } from 'kafkajs';
import type { TridentConfig } from '../../common/config';
import { InvalidMessageError, TridentError } from '../../common/errors';
import { defaultPartitioner } from '../../common/kafka';
import { ensureTopics } from '../../common/topics';
import type { EventCodec } from '../../schemas/codec';
import type { TextEvent } from '../../schemas/generated/text';
import type { FeedbackEvent } from '../../schemas/generated/feedback';
import { builtInTasks as TASKS } from '../../common/tasks';
import { addLabel, LabelError, parseLabel, type EventGold } from '../../model/evaluation/labels';
import { ModelSet, registryResolver } from '../../model/evaluation/models';
import { EvaluationRun, type EvalInput, type Report } from '../../model/evaluation/run';
import { checkEvent } from '../processor/validate-event';
import { resultEvents } from '../processor/results';
import { tail } from '../tail';
import { lookupRange, readRange, type RangeRecord } from './reader';
import { parseBound, parsePartitions, type Bound } from './range';

export interface ReplayOptions {
  /** Input topic kind or name (default: the configured text topic). */
  topic?: string;
  models: string[];
  from?: string;
  to?: string;
  max?: number;
  partitions?: string;
  /** `feedback` (join trident.feedback by text event id) or a labeled JSON-lines file. */
  labels?: string;
  out: string;
  /** Write results to `<prefix>.<task>` (`<prefix>.<model>.<task>` for two models). */
  toTopic?: string;
  /** Events per model call. Default 256 (as `trident predict --file`). */
  chunkSize?: number;
  onStart?: (total: number) => void;
  onProgress?: (done: number) => void;
  /** Checked between chunks; when it returns a reason, the replay stops and writes a partial report. */
  interrupted?: () => string | null;
  now?: number;
}

interface Labels {
  golds: Map<string, EventGold>;
  read: number;
  invalid: Record<string, number>;
  source: string;
}

/** Gold labels from trident.feedback (every committed feedback event) or a labeled file. */
async function loadLabels(kafka: Kafka, codec: EventCodec, config: TridentConfig, spec: string): Promise<Labels> {
  const golds = new Map<string, EventGold>();
  const invalid: Record<string, number> = {};
  let read = 0;
  const take = (raw: unknown, source: string, line: number): void => {
    try {
      addLabel(golds, parseLabel(raw, source, line));
      read++;
    } catch (error) {
      if (!(error instanceof LabelError)) throw error;
      invalid[error.code] = (invalid[error.code] ?? 0) + 1;
    }
  };
  if (spec === 'feedback') {
    const topic = config.topics.feedback;
    const admin = kafka.admin();
    await admin.connect();
    let empty: boolean;
    try {
      empty = (await admin.fetchTopicOffsets(topic)).every((o) => o.high === o.low);
    } finally {
      await admin.disconnect();
    }
    let n = 0;
    if (!empty) {
      await tail(kafka, codec, config, { topic: 'feedback', fromBeginning: true }, (record) => {
        n++;
        if (record.error) invalid[record.error.code] = (invalid[record.error.code] ?? 0) + 1;
        else take(feedbackLabel(record.value as FeedbackEvent), topic, n);
      });
    }
    return { golds, read, invalid, source: topic };
  }
  if (!existsSync(spec))
    throw new TridentError('CLI_USAGE', `--labels ${spec}: no such file (use "feedback" or a labeled JSON-lines file)`);
  readFileSync(spec, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        invalid.LABEL_BAD_JSON = (invalid.LABEL_BAD_JSON ?? 0) + 1;
        return;
      }
      take(raw, spec, i + 1);
    });
  return { golds, read, invalid, source: spec };
}

/** A feedback event as a labeled line (the text it carries is ignored: the text event's is used). */
export function feedbackLabel(event: FeedbackEvent): Record<string, unknown> {
  const { id, task, head, label, entities, answer } = event;
  if (task === 'entities') return { id, task, entities };
  if (task === 'answers') return { id, task, answer };
  return { id, task, label, head };
}

/** Shadow topic of a task's results. */
export function shadowTopic(prefix: string, task: string, model: string, models: number): string {
  return models > 1 ? `${prefix}.${model.replace(/[^a-zA-Z0-9._-]/g, '_')}.${task}` : `${prefix}.${task}`;
}

/**
 * Replays the range and writes the report. Does not block. Throws TridentError for an unknown model,
 * a bad or empty range, or an unreadable labels file — before reading anything.
 */
export async function replay(kafka: Kafka, codec: EventCodec, config: TridentConfig, options: ReplayOptions): Promise<Report> {
  const now = options.now ?? Date.now();
  const topicName = options.topic === undefined || options.topic === 'text' ? config.topics.text : options.topic;
  const bounds: { from?: Bound; to?: Bound; partitions?: number[] } = {};
  if (options.from) bounds.from = parseBound(options.from, '--from', now);
  if (options.to) bounds.to = parseBound(options.to, '--to', now);
  if (options.partitions) bounds.partitions = parsePartitions(options.partitions);
  if (options.max !== undefined && !(Number.isInteger(options.max) && options.max > 0))
    throw new TridentError('CLI_USAGE', `--max ${options.max}: expected a positive integer`);

  const models = await ModelSet.load(options.models, registryResolver(config));
  let producer: Producer | null = null;
  try {
    const admin = kafka.admin();
    await admin.connect();
    let range;
    try {
      range = await lookupRange(admin, topicName, bounds);
      if (options.toTopic) {
        const shadows = models.models.flatMap((m) =>
          m.pipeline.tasks.map((task) => shadowTopic(options.toTopic!, task, m.info.key, models.models.length)),
        );
        await ensureTopics(
          admin,
          shadows.map((topic) => ({ topic, numPartitions: config.topics.partitions, replicationFactor: config.topics.replicationFactor })),
        );
      }
    } finally {
      await admin.disconnect();
    }
    const labels = options.labels ? await loadLabels(kafka, codec, config, options.labels) : null;
    if (options.toTopic) {
      producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false, createPartitioner: defaultPartitioner });
      await producer.connect();
    }
    const run = new EvaluationRun(models, options.out);
    const total = Number(options.max !== undefined && BigInt(options.max) < range.messages ? BigInt(options.max) : range.messages);
    options.onStart?.(total);
    const seen = new Set<string>();
    const chunkSize = options.chunkSize ?? 256;
    let done = 0;
    let partial: string | undefined;
    const maxReached = (): boolean => options.max !== undefined && done >= options.max;

    const evaluate = async (chunk: EvalInput[], events: TextEvent[]): Promise<void> => {
      const { outcomes } = await run.add(chunk);
      if (producer) await produceShadow(producer, codec, options.toTopic!, models, events, outcomes);
    };
    await readRange(kafka, topicName, range, async (records: RangeRecord[], heartbeat) => {
      let chunk: EvalInput[] = [];
      let events: TextEvent[] = [];
      const flush = async (): Promise<void> => {
        if (chunk.length > 0) await evaluate(chunk, events);
        chunk = [];
        events = [];
        await heartbeat();
        options.onProgress?.(done);
      };
      for (const { partition, message } of records) {
        const reason = options.interrupted?.();
        if (reason) partial = reason;
        if (partial || maxReached()) break;
        done++;
        const origin = { topic: topicName, partition, offset: message.offset };
        let event: TextEvent;
        try {
          event = await codec.decode('text', message.value, origin);
        } catch (error) {
          if (!(error instanceof InvalidMessageError)) throw error;
          run.skip(error.code);
          continue;
        }
        const check = checkEvent(event, TASKS);
        if (!check.ok) {
          run.skip(check.code);
          continue;
        }
        if (seen.has(event.id)) {
          run.skip('DUPLICATE_ID'); // outputs are keyed by id, as the processor's dead-letter policy
          continue;
        }
        seen.add(event.id);
        const gold = labels?.golds.get(event.id) ?? null;
        const questions = [...event.questions];
        for (const q of Object.keys(gold?.answers ?? {})) if (!questions.includes(q)) questions.push(q);
        chunk.push({ input: { id: event.id, text: event.text, ...(questions.length ? { questions } : {}) }, gold });
        events.push(event);
        if (chunk.length >= chunkSize) await flush();
      }
      await flush();
      return partial !== undefined || maxReached();
    });

    const evaluated = new Set(seen);
    const withoutEvent = labels ? [...labels.golds.keys()].filter((id) => !evaluated.has(id)) : [];
    const describeBound = (b?: Bound): string | null => b?.text ?? null;
    return await run.finish({
      source: { topic: topicName, models: options.models, ...(options.toTopic ? { shadow_topics: options.toTopic } : {}) },
      range: {
        topic: topicName,
        from: describeBound(bounds.from),
        to: describeBound(bounds.to),
        max: options.max ?? null,
        partitions: Object.fromEntries(range.partitions.map((p) => [p.partition, { start: p.start.toString(), end: p.end.toString() }])),
        messages_in_range: range.messages.toString(),
        read: done,
      },
      labels: labels
        ? {
            source: labels.source,
            read: labels.read,
            matched: labels.golds.size - withoutEvent.length,
            without_event: withoutEvent.length,
            ids_without_event_sample: withoutEvent.slice(0, 10),
            ...(Object.keys(labels.invalid).length ? { invalid_by_code: labels.invalid } : {}),
          }
        : { source: 'none', read: 0, matched: 0, without_event: 0, ids_without_event_sample: [] },
      ...(partial ? { partial: `${partial} after ${done} of ${total} events` } : {}),
    });
  } finally {
    await producer?.disconnect();
    await models.close();
  }
}

async function produceShadow(
  producer: Producer,
  codec: EventCodec,
  prefix: string,
  models: ModelSet,
  events: TextEvent[],
  outcomes: Awaited<ReturnType<ModelSet['predict']>>,
): Promise<void> {
  const messages = new Map<string, Array<{ key: string | null; value: Buffer }>>();
  for (const [m, model] of models.models.entries()) {
    for (const [i, event] of events.entries()) {
      const outcome = outcomes[m][i];
      if (!('output' in outcome)) continue;
      const tasks = (event.tasks ?? TASKS).filter((t) => model.pipeline.tasks.includes(t as never)) as Array<(typeof TASKS)[number]>;
      for (const result of resultEvents(event, tasks, outcome.output, { name: model.name, version: model.version }, false)) {
        const topic = shadowTopic(prefix, result.kind, model.info.key, models.models.length);
        const list = messages.get(topic) ?? [];
        list.push({ key: event.key ?? event.id, value: await codec.encode(result.kind, result.event as never) });
        messages.set(topic, list);
      }
    }
  }
  if (messages.size > 0) await producer.sendBatch({ topicMessages: [...messages].map(([topic, msgs]) => ({ topic, messages: msgs })) });
}
