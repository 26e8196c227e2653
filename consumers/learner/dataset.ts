/**
 * The learner's dataset: the accepted examples of the feedback log, one per Example.key (the newest
 * wins; an older one with another label is recorded as superseded), each with its split, and the
 * log offsets they were derived from. No I/O: the consumer feeds it in log order, and a restart
 * rebuilds it from the changelog (changelog.ts), which stores every example with its split.
 *
 * Split. A text's split is decided once, when its key is first accepted, and never changes (a
 * relabel keeps it; the changelog keeps it across restarts), so a text cannot move between train
 * and held-back as data arrives. The decision, per head and label (entities and answers: per head):
 * while a label has fewer than min(5, ⌈n/2⌉) held-back examples (n counting this one), the new
 * example is held back — so its first 10 examples alternate held-back/train and a label with ≥ 10
 * examples has at least 5 held back; after that, held back when the text's hash falls in the
 * lowest 10 %. Relabels can leave a label below the minimum (its held-back examples moved away);
 * the next examples of that label then fill the deficit.
 */
import { createHash } from 'node:crypto';
import type { TaskName } from '../../common/tasks';
import type { DatasetSnapshot, Example, LogPosition } from '../../model/learn/types';
import type { ValidExample } from './validate-feedback';

export const HELDOUT_SHARE = 0.1;
export const MIN_HELDOUT_PER_LABEL = 5;
/** How many superseded examples are kept for reporting. */
export const RECENT_SUPERSEDED = 10;

export interface Superseded {
  key: string;
  head: string;
  text: string;
  /** The older label (see labelOf) and the one that replaced it. */
  was: string;
  now: string;
  wasAt: LogPosition;
  nowAt: LogPosition;
}

export interface SupersededStats {
  count: number;
  recent: Superseded[];
}

/** The last training: which snapshot, and the change count then (to count what is new since). */
export interface TrainedMark {
  snapshotId: string;
  digest: string;
  changes: number;
  version: string;
  at: number;
}

export type Change =
  | { kind: 'added'; example: Example }
  | { kind: 'replaced'; example: Example; superseded: Superseded }
  | { kind: 'unchanged'; example: Example };

/** The gold answer of an example as one string, to compare two labels of one key. */
export function labelOf(e: Pick<Example, 'label' | 'entities' | 'answer'>): string {
  if (e.label !== undefined) return e.label;
  if (e.entities !== undefined) return JSON.stringify(e.entities.map((s) => [s.label, s.start, s.end]));
  return e.answer ? `${e.answer.start}-${e.answer.end}` : '';
}

/** The label the held-back minimum is counted per: the class for sentiment and categories, the head otherwise. */
function quotaLabel(e: Pick<Example, 'task' | 'label'>): string {
  return e.task === 'sentiment' || e.task === 'categories' ? (e.label ?? '') : '*';
}

/** A text's position in [0, 1), from its hash. */
export function textHashUnit(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

export class DatasetState {
  private readonly examples = new Map<string, Example>();
  /** feedback partition → next offset to read. */
  private readonly offsets = new Map<number, string>();
  /** head → quota label → counts. */
  private readonly quota = new Map<string, Map<string, { total: number; heldout: number }>>();
  superseded: SupersededStats = { count: 0, recent: [] };
  /** Examples added or replaced since the learner's first record (kept in the changelog). */
  changes = 0;
  lastTrained: TrainedMark | null = null;

  get size(): number {
    return this.examples.size;
  }

  get(key: string): Example | undefined {
    return this.examples.get(key);
  }

  /** Every example, in key order. */
  all(): Example[] {
    return [...this.examples.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Examples accepted or changed since the last training. */
  get newSinceTraining(): number {
    return this.changes - (this.lastTrained?.changes ?? 0);
  }

  /**
   * Accepts one validated example at its log position: added (a new key), replaced (same key,
   * another label: the older is superseded; the split stays) or unchanged (same label again).
   */
  accept(valid: ValidExample, position: LogPosition): Change {
    const previous = this.examples.get(valid.key);
    if (previous) {
      if (labelOf(previous) === labelOf(valid)) return { kind: 'unchanged', example: previous };
      const example: Example = { ...valid, position, split: previous.split };
      this.count(previous, -1);
      this.count(example, +1);
      this.examples.set(example.key, example);
      const superseded: Superseded = {
        key: example.key,
        head: example.head,
        text: example.text.slice(0, 200),
        was: labelOf(previous),
        now: labelOf(example),
        wasAt: previous.position,
        nowAt: position,
      };
      this.superseded = { count: this.superseded.count + 1, recent: [...this.superseded.recent, superseded].slice(-RECENT_SUPERSEDED) };
      this.changes += 1;
      return { kind: 'replaced', example, superseded };
    }
    const example: Example = { ...valid, position, split: this.decideSplit(valid) };
    this.count(example, +1);
    this.examples.set(example.key, example);
    this.changes += 1;
    return { kind: 'added', example };
  }

  private decideSplit(e: Pick<Example, 'head' | 'task' | 'label' | 'text'>): Example['split'] {
    const counts = this.quota.get(e.head)?.get(quotaLabel(e)) ?? { total: 0, heldout: 0 };
    const n = counts.total + 1;
    if (counts.heldout < Math.min(MIN_HELDOUT_PER_LABEL, Math.ceil(n / 2))) return 'heldout';
    return textHashUnit(e.text) < HELDOUT_SHARE ? 'heldout' : 'train';
  }

  private count(e: Example, delta: 1 | -1): void {
    let labels = this.quota.get(e.head);
    if (!labels) this.quota.set(e.head, (labels = new Map()));
    const label = quotaLabel(e);
    const counts = labels.get(label) ?? { total: 0, heldout: 0 };
    counts.total += delta;
    if (e.split === 'heldout') counts.heldout += delta;
    labels.set(label, counts);
  }

  /** Records that the feedback partition was consumed up to (not including) `next`. */
  advance(partition: number, next: string): void {
    this.offsets.set(partition, next);
  }

  offsetOf(partition: number): string | undefined {
    return this.offsets.get(partition);
  }

  // ---- Restoring from the changelog (the records carry decided splits; nothing is re-decided). ----

  restoreExample(example: Example): void {
    const previous = this.examples.get(example.key);
    if (previous) this.count(previous, -1);
    this.examples.set(example.key, example);
    this.count(example, +1);
  }

  /** Per head: examples per split and per label (no hashing: cheap enough after every batch). */
  headCounts(): DatasetSnapshot['heads'] {
    const heads: DatasetSnapshot['heads'] = {};
    for (const e of this.examples.values()) {
      const head = (heads[e.head] ??= { task: e.task as TaskName, train: 0, heldout: 0, labels: {} });
      head[e.split === 'train' ? 'train' : 'heldout'] += 1;
      for (const label of labelsCounted(e)) head.labels[label] = (head.labels[label] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(heads).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /**
   * The dataset as a snapshot of the log: offsets, a digest over the examples' keys and contents
   * (ids, sources and positions left out: the same labels give the same digest), counts per head.
   */
  snapshot(topic: string): DatasetSnapshot {
    const offsets = Object.fromEntries([...this.offsets].sort((a, b) => a[0] - b[0]).map(([p, o]) => [String(p), o]));
    const hash = createHash('sha256');
    for (const e of this.all())
      hash.update(
        `${e.key}\t${JSON.stringify([e.task, e.head, e.text, e.label ?? null, e.entities ?? null, e.answer ?? null, e.split])}\n`,
      );
    const digest = hash.digest('hex');
    const heads = this.headCounts();
    const id = createHash('sha256')
      .update(JSON.stringify(offsets) + digest)
      .digest('hex')
      .slice(0, 16);
    return { id, topic, offsets, digest, heads };
  }
}

/** What an example adds to its head's label counts: its class; each entity span's type; `answer`. */
function labelsCounted(e: Example): string[] {
  if (e.label !== undefined) return [e.label];
  if (e.entities !== undefined) return e.entities.map((s) => s.label);
  return ['answer'];
}
