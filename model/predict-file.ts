import { TridentError } from '../common/errors';
import type { Pipeline } from './pipeline';
import type { PredictInput } from './types';
import { validateInput } from './validate';

/** A line that could not be predicted: same id (or `line:N` when none can be read) and the typed error. */
export interface PredictErrorLine {
  id: string;
  error: { code: string; message: string };
}

export interface PredictFileOptions {
  tasks: readonly string[];
  /** Inputs per pipeline call. Default 256. */
  chunkSize?: number;
  /** Called after each chunk with the number of lines done so far. */
  onProgress?: (done: number) => void;
}

/**
 * Runs JSON lines (`{id, text, questions?}` each) through the pipeline and writes one output line per
 * input line, same order, same id. A line that is not JSON or not a valid input becomes an error
 * line (`{id, error: {code, message}}`) instead of stopping the run; blank lines are skipped.
 * Does not block (see Pipeline.run). Throws what Pipeline.run throws for model-level failures.
 */
export async function predictJsonLines(
  pipeline: Pipeline,
  lines: AsyncIterable<string>,
  write: (line: string) => void | Promise<void>,
  options: PredictFileOptions,
): Promise<{ lines: number; errors: number }> {
  const chunkSize = options.chunkSize ?? 256;
  let lineNo = 0;
  let done = 0;
  let errors = 0;
  let chunk: Array<PredictInput | PredictErrorLine> = [];
  // Two chunks in flight: one encodes while the previous one's lines are written.
  const inFlight: Array<Promise<string[]>> = [];
  const compute = async (items: Array<PredictInput | PredictErrorLine>): Promise<string[]> => {
    const valid = items.filter((x): x is PredictInput => !('error' in x));
    const outputs = valid.length > 0 ? await pipeline.run(valid, options.tasks) : [];
    let v = 0;
    return items.map((item) => JSON.stringify('error' in item ? item : outputs[v++]));
  };
  const writeNext = async (): Promise<void> => {
    const lines = await inFlight.shift()!;
    for (const line of lines) await write(line);
    done += lines.length;
    options.onProgress?.(done);
  };
  const flush = async (): Promise<void> => {
    errors += chunk.filter((x) => 'error' in x).length;
    const running = compute(chunk);
    running.catch(() => undefined); // awaited in order by writeNext
    inFlight.push(running);
    chunk = [];
    if (inFlight.length >= 2) await writeNext();
  };
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      chunk.push(parseLine(line, lineNo, options.tasks));
      if (chunk.length >= chunkSize) await flush();
    }
    if (chunk.length > 0) await flush();
    while (inFlight.length > 0) await writeNext();
  } finally {
    await Promise.allSettled(inFlight);
  }
  return { lines: done, errors };
}

function parseLine(line: string, lineNo: number, tasks: readonly string[]): PredictInput | PredictErrorLine {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (cause) {
    return { id: `line:${lineNo}`, error: { code: 'INPUT_BAD_JSON', message: `line ${lineNo}: ${String((cause as Error).message)}` } };
  }
  try {
    return validateInput(raw, tasks);
  } catch (error) {
    const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : `line:${lineNo}`;
    if (error instanceof TridentError) return { id, error: { code: error.code, message: error.message } };
    throw error;
  }
}
