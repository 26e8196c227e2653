/**
 * `trident produce`: reads records (argument, file or stdin), validates each, sends the valid ones
 * in batches, reports every rejected line with its number and reason, and ends with a summary.
 */
import { SingleBar, Presets } from 'cli-progress';
import type { TridentConfig } from '../common/config';
import { rejectedInputs } from '../common/metrics';
import { readRecords, countLines, type InputItem } from './input';
import { toFeedbackEvent, toTextEvent, type RecordDefaults, type RecordResult } from './records';
import { TridentProducer, keyOf, type OutgoingEvent } from './producer';
import { RatePacer } from './rate';
import { deliver } from './delivery';
import { TridentError } from '../common/errors';

export interface ProduceOptions {
  /** A text given on the command line (one event). */
  text?: string;
  /** A file (`.jsonl`, `.csv`) or `-` for stdin. */
  file?: string;
  feedback?: boolean;
  defaults: RecordDefaults;
  ratePerSecond?: number;
  progress?: boolean;
  source?: string;
  /** First input line to send (1-based); earlier lines are read and skipped (resuming an interrupted run). */
  fromLine?: number;
}

export interface Rejection {
  line: number;
  code: string;
  reason: string;
}

export interface ProduceSummary {
  sent: number;
  rejected: number;
  rejections: Rejection[];
  seconds: number;
  ids: string[];
  /** Every input line up to this one (1-based) was acknowledged by the broker or rejected; 0: none. */
  acknowledgedThroughLine: number;
}

/**
 * A batch could not be delivered within producer.deliveryTimeoutMs. Says what was acknowledged and
 * how to resume from the first line that was not.
 */
export class DeliveryInterruptedError extends TridentError {
  constructor(
    readonly summary: ProduceSummary,
    readonly firstLine: number,
    readonly lastLine: number,
    readonly file: string | undefined,
    cause: unknown,
  ) {
    const resume =
      file !== undefined
        ? `trident produce --file ${file === '-' ? '- (the same input)' : file} --from-line ${firstLine}   (or --skip ${firstLine - 1})`
        : 'send the text again';
    super(
      'DELIVERY_INTERRUPTED',
      `${(cause as Error)?.message ?? String(cause)}\n` +
        `acknowledged: ${summary.sent} events, every line through ${summary.acknowledgedThroughLine} (${summary.rejected} rejected); ` +
        `lines ${firstLine}–${lastLine} were in flight and are not acknowledged.\n` +
        `resume without resending acknowledged lines: ${resume}\n` +
        `(lines ${firstLine}–${lastLine} may have reached the broker before the failure; the processor gives a repeated id within processor.dedupWindow no second result)`,
      { cause },
    );
  }
}

type Report = (line: string) => void;

export async function produce(
  producer: TridentProducer,
  config: TridentConfig,
  options: ProduceOptions,
  report: Report = (l) => process.stderr.write(l + '\n'),
): Promise<ProduceSummary> {
  const started = performance.now();
  const limits = config.producer;
  const pacer = options.ratePerSecond ? new RatePacer(options.ratePerSecond) : undefined;
  const total = options.file ? await countLines(options.file) : 1;
  const bar =
    options.progress && total !== undefined && total > 1
      ? new SingleBar(
          { format: 'producing |{bar}| {value}/{total} lines | {rate}/s | ETA {eta_formatted}', hideCursor: true },
          Presets.shades_classic,
        )
      : undefined;
  bar?.start(total ?? 0, 0, { rate: '0' });

  const summary: ProduceSummary = { sent: 0, rejected: 0, rejections: [], seconds: 0, ids: [], acknowledgedThroughLine: 0 };
  let batch: Array<OutgoingEvent<'text' | 'feedback'>> = [];
  let batchFirstLine = 0;
  let processedLines = 0;
  const fromLine = options.fromLine ?? 1;

  const flush = async () => {
    if (batch.length === 0) return;
    if (pacer) {
      const wait = pacer.delayFor(batch.length);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    // createdAt is when the event leaves for Kafka, not when its line was read (the two differ
    // under --rate), so end-to-end latency downstream is measured from the hand-off.
    const sentAt = Date.now();
    for (const item of batch) item.event.createdAt = sentAt;
    const toSend = batch;
    try {
      await deliver(() => producer.send(toSend), {
        deliveryTimeoutMs: config.producer.deliveryTimeoutMs,
        onRetry: (error, attempt, elapsedMs) =>
          report(
            `lines ${batchFirstLine}–${processedLines} not acknowledged yet (attempt ${attempt}, ${Math.round(elapsedMs / 1000)} s): ${(error as Error).message}; retrying`,
          ),
      });
    } catch (error) {
      bar?.stop();
      summary.seconds = (performance.now() - started) / 1000;
      summary.ids.splice(summary.ids.length - toSend.length);
      throw new DeliveryInterruptedError(summary, batchFirstLine, processedLines, options.file, error);
    }
    summary.sent += toSend.length;
    summary.acknowledgedThroughLine = processedLines;
    batch = [];
  };

  const batchSize = pacer
    ? Math.max(1, Math.min(config.producer.batchSize, Math.ceil(options.ratePerSecond! / 20)))
    : config.producer.batchSize;
  for await (const item of items(options)) {
    if (item.line < fromLine) continue;
    if (batch.length === 0) batchFirstLine = item.line;
    processedLines = item.line;
    const result: RecordResult<unknown> =
      'raw' in item
        ? options.feedback
          ? toFeedbackEvent(item.raw, item.line, limits, options.source)
          : toTextEvent(item.raw, item.line, limits, options.defaults)
        : { ok: false, line: item.line, code: item.code, reason: item.reason };
    if (!result.ok) {
      summary.rejected += 1;
      summary.rejections.push({ line: result.line, code: result.code, reason: result.reason });
      rejectedInputs.inc({ code: result.code });
      const where = options.file ? `line ${result.line}` : 'input';
      if (bar) bar.stop();
      report(`${where}: ${result.code}: ${result.reason}`);
      if (bar) bar.start(total ?? 0, processedLines);
      if (batch.length === 0) summary.acknowledgedThroughLine = item.line;
      continue;
    }
    if (options.feedback) {
      const event = result.event as OutgoingEvent<'feedback'>['event'];
      batch.push({ kind: 'feedback', event, key: event.id });
      summary.ids.push(event.id);
    } else {
      const event = result.event as OutgoingEvent<'text'>['event'];
      batch.push({ kind: 'text', event, key: keyOf(event) });
      summary.ids.push(event.id);
    }
    if (batch.length >= batchSize) await flush();
    if (bar) {
      const elapsed = (performance.now() - started) / 1000;
      bar.update(processedLines, { rate: elapsed > 0 ? Math.round(summary.sent / elapsed).toString() : '0' });
    }
  }
  await flush();
  bar?.update(total ?? processedLines);
  bar?.stop();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

async function* items(options: ProduceOptions): AsyncGenerator<InputItem> {
  if (options.file !== undefined) {
    yield* readRecords(options.file);
  } else if (options.text !== undefined) {
    yield { line: 1, raw: { text: options.text } };
  }
}

export function summaryLine(summary: ProduceSummary): string {
  const rate = summary.seconds > 0 ? Math.round(summary.sent / summary.seconds) : summary.sent;
  return `sent ${summary.sent}, rejected ${summary.rejected} in ${summary.seconds.toFixed(1)} s (${rate}/s)`;
}
