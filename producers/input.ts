/**
 * Reads input records from JSON lines, CSV or a single CLI argument. Yields one item per record with
 * its 1-based line number, or the reason the line could not be read. Streams: memory stays flat on
 * large files.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import type { RejectionCode } from './records';

export type InputItem = { line: number; raw: unknown } | { line: number; code: RejectionCode; reason: string };

export type InputFormat = 'jsonl' | 'csv';

export function formatOf(path: string): InputFormat {
  return /\.csv$/i.test(path) ? 'csv' : 'jsonl';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits a byte stream into lines without decoding first, so each line's UTF-8 can be checked. */
async function* byteLines(stream: Readable): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, i));
      yield Buffer.concat(pending);
      pending = [];
      start = i + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield Buffer.concat(pending);
}

/** JSON lines: one object per line; blank lines are skipped (but counted). */
export async function* readJsonLines(stream: Readable): AsyncGenerator<InputItem> {
  let line = 0;
  for await (const bytes of byteLines(stream)) {
    line += 1;
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      yield { line, code: 'INVALID_UTF8', reason: 'line is not valid UTF-8' };
      continue;
    }
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim().length === 0) continue;
    try {
      yield { line, raw: JSON.parse(text) };
    } catch (error) {
      yield { line, code: 'MALFORMED_JSON', reason: `not valid JSON: ${(error as Error).message}` };
    }
  }
}

/** CSV with a header row (`id,text,tasks,questions,key,tenant`); list cells use `|` between items. */
export async function* readCsv(stream: Readable): AsyncGenerator<InputItem> {
  const parser = stream.pipe(parseCsv({ columns: true, info: true, skip_empty_lines: true, relax_column_count: false, bom: true }));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const line = info.lines;
      const values = Object.values(record);
      if (values.some((v) => v.includes('\ufffd'))) {
        yield { line, code: 'INVALID_UTF8', reason: 'row is not valid UTF-8' };
        continue;
      }
      const raw: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(record)) if (value !== '') raw[key] = value;
      yield { line, raw };
    }
  } catch (error) {
    // csv-parse stops at a structural error (unclosed quote, wrong column count); report it on its line.
    const e = error as Error & { lines?: number };
    yield { line: e.lines ?? 0, code: 'MALFORMED_CSV', reason: e.message };
  }
}

export function openInput(path: string): Readable {
  return path === '-' ? process.stdin : createReadStream(path);
}

export function readRecords(path: string, format: InputFormat = formatOf(path)): AsyncGenerator<InputItem> {
  return format === 'csv' ? readCsv(openInput(path)) : readJsonLines(openInput(path));
}

/** Counts lines of a file quickly (for the progress bar's total); undefined for stdin. */
export async function countLines(path: string): Promise<number | undefined> {
  if (path === '-') return undefined;
  let count = 0;
  let last = 10;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count += 1;
    last = chunk[chunk.length - 1] ?? last;
  }
  return last === 10 ? count : count + 1;
}
