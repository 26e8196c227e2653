/**
 * Encoder features on disk, so a text is featurised once per encoder however often the learner
 * retrains. Key: (encoder sha256, sha256 of text [+ question]). Bounded in bytes: the least recently
 * used entries go first (use = read or write, recorded as the file's mtime). Writes are atomic
 * (temporary file + rename), so concurrent readers see a whole entry or none; an entry that does not
 * parse or whose digest does not match is ignored (and removed), and the caller recomputes it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { QuestionRowFeatures, TextFeatures } from '../feature-decoder';

const MAGIC = 'TRIDENT-FEATURES/1\n';
const SUFFIX = '.feat';

export interface FeatureCacheOptions {
  dir: string;
  /** Upper bound on the bytes of all entries (every encoder's) in `dir`. */
  maxBytes: number;
  /** sha256 of the encoder.onnx the features come from. */
  encoderSha256: string;
}

interface Header {
  id: string;
  hiddenSize: number;
  windows: number;
  questions: Array<{ question: string; rows: number[] }>;
  arrays: Array<{ name: string; type: 'f32' | 'i32' | 'none'; length: number }>;
  sha256: string;
}

/** sha256 hex of a text, or of a (text, question) pair. Pure. */
export function textKey(text: string, question?: string): string {
  const hash = createHash('sha256').update(text, 'utf8');
  if (question !== undefined) hash.update('\u0000question\u0000').update(question, 'utf8');
  return hash.digest('hex');
}

export class FeatureCache {
  private readonly folder: string;

  constructor(private readonly options: FeatureCacheOptions) {
    this.folder = path.join(options.dir, options.encoderSha256);
  }

  private file(key: string): string {
    return path.join(this.folder, key.slice(0, 2), key + SUFFIX);
  }

  /**
   * The cached features under `key` (textKey), or null when absent, unreadable or corrupt (a corrupt
   * entry is removed). Marks the entry as used. Blocks while it reads the file.
   */
  get(key: string): TextFeatures | null {
    const file = this.file(key);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return null;
    }
    const features = decode(bytes);
    if (features === null) {
      removeQuietly(file);
      return null;
    }
    const now = new Date();
    try {
      utimesSync(file, now, now);
    } catch {
      // Evicted by another process meanwhile: the bytes we read are still whole.
    }
    return features;
  }

  /** Stores features under `key`, atomically; an entry larger than the whole bound is not stored. Blocks while it writes. */
  put(key: string, features: TextFeatures): void {
    const bytes = encode(features);
    if (bytes.length > this.options.maxBytes) return;
    const file = this.file(key);
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temporary, bytes);
    renameSync(temporary, file);
  }

  /**
   * Removes the least recently used entries until all of `dir` holds at most maxBytes. Returns the
   * bytes left. Entries another process removes meanwhile are skipped. Blocks while it lists the folder.
   */
  evict(): number {
    const entries: Array<{ file: string; size: number; used: number }> = [];
    const walk = (dir: string): void => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        const full = path.join(dir, name);
        try {
          const stat = statSync(full);
          if (stat.isDirectory()) walk(full);
          else if (name.endsWith(SUFFIX)) entries.push({ file: full, size: stat.size, used: stat.mtimeMs });
        } catch {
          // removed meanwhile
        }
      }
    };
    walk(this.options.dir);
    let total = entries.reduce((n, e) => n + e.size, 0);
    entries.sort((a, b) => a.used - b.used);
    for (const entry of entries) {
      if (total <= this.options.maxBytes) break;
      removeQuietly(entry.file);
      total -= entry.size;
    }
    return total;
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** MAGIC, 4-byte header length, JSON header, then the arrays' bytes (little-endian), digested in the header. */
export function encode(f: TextFeatures): Buffer {
  const arrays: Array<[string, Float32Array | Int32Array | null]> = [
    ['offsets', f.offsets],
    ['wordIds', f.wordIds],
    ['cls', f.cls],
    ['mean', f.mean],
    ['tokens', f.tokens],
  ];
  f.questions.forEach((q, qi) =>
    q.rows.forEach((row, r) => {
      arrays.push([`q${qi}.${r}.hidden`, row.hidden]);
      arrays.push([`q${qi}.${r}.tokenIndex`, row.tokenIndex]);
    }),
  );
  const body = Buffer.concat(
    arrays.filter(([, a]) => a !== null).map(([, a]) => Buffer.from(new Uint8Array(a!.buffer, a!.byteOffset, a!.byteLength))),
  );
  const header: Header = {
    id: f.id,
    hiddenSize: f.hiddenSize,
    windows: f.windows,
    questions: f.questions.map((q) => ({ question: q.question, rows: q.rows.map((r) => r.length) })),
    // By tag, not instanceof: arrays from the worker thread may come from another realm (jest's VM).
    arrays: arrays.map(([name, a]) => ({
      name,
      type: a === null ? 'none' : a[Symbol.toStringTag] === 'Float32Array' ? 'f32' : 'i32',
      length: a?.length ?? 0,
    })),
    sha256: createHash('sha256').update(body).digest('hex'),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([Buffer.from(MAGIC), length, json, body]);
}

/** The features in `bytes`, with `text` unknown (''); null when anything is off. Pure. */
export function decode(bytes: Buffer): TextFeatures | null {
  try {
    if (bytes.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) return null;
    const jsonLength = bytes.readUInt32LE(MAGIC.length);
    const start = MAGIC.length + 4 + jsonLength;
    const header = JSON.parse(bytes.subarray(MAGIC.length + 4, start).toString('utf8')) as Header;
    const body = bytes.subarray(start);
    if (createHash('sha256').update(body).digest('hex') !== header.sha256) return null;
    const arrays = new Map<string, Float32Array | Int32Array | null>();
    let at = 0;
    for (const { name, type, length } of header.arrays) {
      if (type === 'none') {
        arrays.set(name, null);
        continue;
      }
      // Copy: the body's offset in the file buffer need not be 4-byte aligned.
      const chunk = body.subarray(at, at + 4 * length);
      if (chunk.length !== 4 * length) return null;
      const aligned = new Uint8Array(4 * length);
      aligned.set(chunk);
      arrays.set(name, type === 'f32' ? new Float32Array(aligned.buffer) : new Int32Array(aligned.buffer));
      at += 4 * length;
    }
    if (at !== body.length) return null;
    const get = <T extends Float32Array | Int32Array>(name: string): T => arrays.get(name) as T;
    return {
      id: header.id,
      text: '',
      hiddenSize: header.hiddenSize,
      offsets: get<Int32Array>('offsets'),
      wordIds: get<Int32Array>('wordIds'),
      windows: header.windows,
      cls: get<Float32Array>('cls'),
      mean: get<Float32Array>('mean'),
      tokens: get<Float32Array>('tokens'),
      questions: header.questions.map((q, qi) => ({
        question: q.question,
        rows: q.rows.map((length, r): QuestionRowFeatures => ({
          length,
          hidden: get<Float32Array>(`q${qi}.${r}.hidden`),
          tokenIndex: get<Int32Array>(`q${qi}.${r}.tokenIndex`),
        })),
      })),
    };
  } catch {
    return null;
  }
}
