/** Shared helpers of the encoder and pipeline benchmarks: texts, arguments, timing, event-loop lag. */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { EncoderFeeds } from '../model/encoder';

/** `--name value` arguments into a map (benchmarks keep their own tiny parser; no CLI wiring). */
export function args(argv = process.argv.slice(2)): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++)
    if (argv[i].startsWith('--'))
      out.set(argv[i].slice(2), argv[i + 1]?.startsWith('--') || argv[i + 1] === undefined ? 'true' : argv[++i]);
  return out;
}

/**
 * Sentences of ../shared/data/sst2/dev.tsv, read at run time (never copied into the repo); when
 * the file is missing, generated sentences of similar length.
 */
export function benchTexts(
  count: number,
  file = process.env.TRIDENT_BENCH_TEXTS ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'sst2', 'dev.tsv'),
): string[] {
  const fallback = path.resolve(process.cwd(), '..', 'shared', 'data', 'sst2', 'dev.tsv');
  const source = existsSync(file) ? file : existsSync(fallback) ? fallback : null;
  let texts: string[];
  if (source) {
    texts = readFileSync(source, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t')[0].trim())
      .filter(Boolean);
  } else {
    texts = generatedTexts();
  }
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) out.push(texts[i % texts.length]);
  return out;
}

/**
 * 872 generated sentences of 8–37 words, some capitalised (names, places): the texts when the SST-2
 * file is missing, and cased text where a benchmark needs some (SST-2 is lower case).
 */
export function generatedTexts(): string[] {
  const words = [
    'the',
    'film',
    'is',
    'a',
    'charming',
    'and',
    'often',
    'affecting',
    'journey',
    'Paris',
    'Angela',
    'Merkel',
    'bleak',
    'but',
    'funny',
  ];
  return Array.from({ length: 872 }, (_, i) =>
    Array.from({ length: 8 + ((i * 7) % 30) }, (_, j) => words[(i * 31 + j * 17) % words.length]).join(' '),
  );
}

/** Deep copy of feeds (the encoder transfers, and so detaches, the buffers it is given). */
export function cloneFeeds(feeds: EncoderFeeds): EncoderFeeds {
  const out: EncoderFeeds = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = { data: t.data.slice(), dims: [...t.dims] as [number, number] };
  return out;
}

/** Worst gap between 1 ms timer ticks while `fn` runs: how long the event loop was blocked. */
export async function withLoopLag<T>(fn: () => Promise<T>): Promise<{ result: T; worstGapMs: number }> {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  try {
    const result = await fn();
    return { result, worstGapMs: worst };
  } finally {
    clearInterval(timer);
  }
}

export const fmt = (x: number, digits = 1): string => x.toFixed(digits);
export const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
