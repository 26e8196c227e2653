/**
 * The model the processor serves, swappable while it runs. Each micro-batch leases the current
 * model; `swap` makes a new one current for the batches that start after it, and the old one closes
 * when its last leased batch releases it — nothing in flight is dropped, and no batch mixes versions.
 * No Kafka here (model-follower.ts decides when to swap).
 */
import type { AcquireModel, ModelLease, RunModel } from './inference';
import type { ModelStatus } from './model-availability';
import type { ModelIdentity } from './results';

/** A loaded, verified model: what it is, how to run it, how to free it. */
export interface ServedModel {
  identity: ModelIdentity;
  /** sha256 of its manifest.json; null for a folder served outside the registry. */
  digest: string | null;
  /** How its pipeline batches inputs (model.batching, else the artifact's default); absent in fakes. */
  batching?: 'mixed' | 'per-input';
  /** Its encoder sessions (model.sessions, else by the batching); absent in fakes. */
  sessions?: number;
  run: RunModel;
  /** Whether its worker is up (absent: always ready). */
  status?(): ModelStatus;
  close(): Promise<void>;
}

interface Slot {
  model: ServedModel;
  leases: number;
  retired: boolean;
  closed: Promise<void> | null;
}

export class SwappableModel {
  private current: Slot;
  private readonly retiring = new Set<Slot>();

  constructor(initial: ServedModel) {
    this.current = { model: initial, leases: 0, retired: false, closed: null };
  }

  /** The model now current. */
  get served(): ServedModel {
    return this.current.model;
  }

  /** Leases the current model for one batch. Never blocks. */
  readonly acquire: AcquireModel = (): ModelLease => {
    const slot = this.current;
    slot.leases++;
    let released = false;
    return {
      identity: slot.model.identity,
      run: slot.model.run,
      release: () => {
        if (released) return;
        released = true;
        slot.leases--;
        if (slot.retired && slot.leases === 0) this.closeSlot(slot);
      },
    };
  };

  /**
   * Makes `next` current for every batch that starts from now on; the previous model closes after
   * its last leased batch. Returns the previous model.
   */
  swap(next: ServedModel): ServedModel {
    const previous = this.current;
    this.current = { model: next, leases: 0, retired: false, closed: null };
    previous.retired = true;
    this.retiring.add(previous);
    if (previous.leases === 0) this.closeSlot(previous);
    return previous.model;
  }

  private closeSlot(slot: Slot): void {
    slot.closed ??= slot.model
      .close()
      .catch(() => undefined)
      .finally(() => this.retiring.delete(slot));
  }

  /** Resolves when every retired model has closed. */
  async retired(): Promise<void> {
    await Promise.all([...this.retiring].map((s) => s.closed ?? Promise.resolve()));
  }

  /** Closes the current model and waits for the retired ones (call after the last batch). */
  async close(): Promise<void> {
    this.current.retired = true;
    this.retiring.add(this.current);
    this.closeSlot(this.current);
    await Promise.all([...this.retiring].map((s) => s.closed));
  }
}
