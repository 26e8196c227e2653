/**
 * The learner's changelog: a compacted topic (topics.learnChangelog, one partition) holding its
 * whole state, written in the same transaction as the consumer offsets it was derived from. Keys:
 *
 * - `example/<Example.key>` → the example (with its decided split); compaction keeps the newest;
 * - `offset/<partition>`    → the feedback partition's next offset, as committed with it;
 * - `stats`                 → change counter and superseded examples (count, last few);
 * - `trained`               → the last trained snapshot (id, digest, change count, version).
 *
 * Values are JSON. Pure: encoding, and applying a read record to a DatasetState.
 */
import type { Message } from 'kafkajs';
import { learnerErrorCodes } from '../../common/error-codes';
import { TridentError } from '../../common/errors';
import type { Example } from '../../model/learn/types';
import type { DatasetState, SupersededStats, TrainedMark } from './dataset';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

export function exampleRecord(example: Example): Message {
  return { key: `example/${example.key}`, value: json(example) };
}

export function offsetRecord(partition: number, next: string): Message {
  return { key: `offset/${partition}`, value: json({ next }) };
}

export function statsRecord(changes: number, superseded: SupersededStats): Message {
  return { key: 'stats', value: json({ changes, superseded }) };
}

export function trainedRecord(mark: TrainedMark): Message {
  return { key: 'trained', value: json(mark) };
}

/**
 * Applies one changelog record (in log order) to `state`. Unknown keys are skipped (a newer
 * learner's records); a record that does not parse throws LEARN_CHANGELOG_INVALID.
 */
export function applyChangelogRecord(state: DatasetState, key: string, value: Buffer | null, where: string): void {
  if (value === null) return; // tombstones: nothing is deleted today
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (cause) {
    throw new TridentError(learnerErrorCodes.LEARN_CHANGELOG_INVALID, `${where}: record ${key} is not JSON`, { cause });
  }
  if (key.startsWith('example/')) state.restoreExample(parsed as Example);
  else if (key.startsWith('offset/')) state.advance(Number(key.slice('offset/'.length)), (parsed as { next: string }).next);
  else if (key === 'stats') {
    const stats = parsed as { changes: number; superseded: SupersededStats };
    state.changes = stats.changes;
    state.superseded = stats.superseded;
  } else if (key === 'trained') state.lastTrained = parsed as TrainedMark;
}
