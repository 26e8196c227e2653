/**
 * From encoder rows to encoder batches: which rows share a batch (makeBatches) and the int64 tensors
 * of one batch (batchFeeds). Pure.
 */
import type { EncoderFeeds } from './encoder';
import type { EncoderRow } from './windows';

/**
 * Groups rows into batches. `sorted`: by length (stable), then batches of up to `batchSize` rows,
 * fewer when `maxTokens / longest` is smaller, where `longest` is the last row a full batch would
 * take (the rule of training/trident_training/inference.py `run_windows`, so batches can match the
 * Python reference exactly). `arrival`: input order, cut greedily at either limit. With `group`,
 * no batch mixes groups (groups in order of first appearance). Pure.
 */
export function makeBatches<T extends { row: EncoderRow }>(
  jobs: T[],
  batchSize: number,
  maxTokens: number,
  padding: 'sorted' | 'arrival',
  group?: (job: T) => number,
): T[][] {
  if (group) {
    const groups = new Map<number, T[]>();
    for (const job of jobs) {
      const key = group(job);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(job);
    }
    return [...groups.values()].flatMap((g) => makeBatches(g, batchSize, maxTokens, padding));
  }
  const batches: T[][] = [];
  if (padding === 'sorted') {
    const ordered = [...jobs].sort((a, b) => a.row.ids.length - b.row.ids.length);
    for (let pos = 0; pos < ordered.length;) {
      const longest = ordered[Math.min(pos + batchSize, ordered.length) - 1].row.ids.length;
      const n = Math.max(1, Math.min(batchSize, Math.floor(maxTokens / Math.max(longest, 1))));
      batches.push(ordered.slice(pos, pos + n));
      pos += n;
    }
    return batches;
  }
  let current: T[] = [];
  let longest = 0;
  for (const job of jobs) {
    const len = job.row.ids.length;
    if (current.length > 0 && (current.length >= batchSize || Math.max(longest, len) * (current.length + 1) > maxTokens)) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(job);
    longest = Math.max(longest, len);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * int64 encoder inputs for a batch of rows, padded to the longest row (pad id, mask 0, type 0,
 * case 0). Only the names in `inputNames` are returned. Pure.
 */
export function batchFeeds(
  batch: ReadonlyArray<{ row: EncoderRow; caseIds: Int32Array | null }>,
  inputNames: readonly string[],
  padId: number,
  casing: string | null,
): { feeds: EncoderFeeds; seq: number } {
  const seq = Math.max(...batch.map((j) => j.row.ids.length));
  const n = batch.length * seq;
  // Written through Int32 views (low word = value, high word = 0: all values are small and
  // non-negative, little-endian): no BigInt per element, so no garbage.
  const all: Record<string, BigInt64Array> = {
    input_ids: new BigInt64Array(n),
    attention_mask: new BigInt64Array(n),
    token_type_ids: new BigInt64Array(n),
  };
  if (casing) all[casing] = new BigInt64Array(n);
  const ids32 = new Int32Array(all.input_ids.buffer);
  const mask32 = new Int32Array(all.attention_mask.buffer);
  const types32 = new Int32Array(all.token_type_ids.buffer);
  const case32 = casing ? new Int32Array(all[casing].buffer) : null;
  if (padId !== 0) for (let k = 0; k < n; k++) ids32[2 * k] = padId;
  batch.forEach((job, b) => {
    const { ids, typeIds } = job.row;
    for (let p = 0; p < ids.length; p++) {
      const k = 2 * (b * seq + p);
      ids32[k] = ids[p];
      mask32[k] = 1;
      types32[k] = typeIds[p];
      if (case32 && job.caseIds) case32[k] = job.caseIds[p];
    }
  });
  const feeds: EncoderFeeds = {};
  for (const name of inputNames) feeds[name] = { data: all[name], dims: [batch.length, seq] };
  return { feeds, seq };
}

/** Case ids per row position: content tokens from the text, question tokens (positions 1..q) from the question, 0 for specials. */
export function rowCaseIds(row: EncoderRow, textCase: Int32Array, questionCase: Int32Array | null, q = 0): Int32Array {
  const out = new Int32Array(row.ids.length);
  for (let p = 0; p < out.length; p++) if (row.tokenIndex[p] >= 0) out[p] = textCase[row.tokenIndex[p]];
  if (questionCase) for (let i = 0; i < q; i++) out[1 + i] = questionCase[i];
  return out;
}
