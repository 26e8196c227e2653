/**
 * Whether the model can run, and getting it back when its worker dies. Model-unavailable is never
 * an event's fault: runs fail with the retriable MODEL_UNAVAILABLE (the processor leaves those
 * events uncommitted and retries them later) instead of outcomes that would be dead-lettered.
 *
 * States: `ready` → (worker died) → `restarting` (reload with exponential backoff until it loads)
 * → `ready`; `close()` → `closed` from any state. Timers are injected so tests run without waiting.
 */
import { TridentError } from '../../common/errors';
import type { RunModel } from './inference';

export type ModelState = 'ready' | 'restarting' | 'closed';

/** Errors that say the model, not the input, is the problem. */
const UNAVAILABLE_CODES = new Set(['MODEL_UNAVAILABLE', 'MODEL_WORKER_DIED', 'MODEL_CLOSED']);

export function isModelUnavailable(error: unknown): boolean {
  return error instanceof TridentError && UNAVAILABLE_CODES.has(error.code);
}

export class ModelUnavailableError extends TridentError {
  constructor(
    readonly state: ModelState,
    cause?: unknown,
  ) {
    super(
      'MODEL_UNAVAILABLE',
      `the model is ${state}${cause ? ` (${(cause as Error).message ?? String(cause)})` : ''}; the events stay uncommitted and are retried`,
      { retriable: true, cause },
    );
  }
}

export interface LoadedModel {
  run: RunModel;
  close(): Promise<void>;
}

export interface ModelStatus {
  state: ModelState;
  /** Successful reloads since start. */
  restarts: number;
  /** Why the last worker died or the last reload failed. */
  lastError: string | null;
  /** When the current state began (epoch ms). */
  since: number;
}

export interface ModelAvailabilityOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  onStateChange?: (status: ModelStatus) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  now?: () => number;
}

export class ModelAvailability {
  private model: LoadedModel;
  private current: ModelStatus;
  private timer: unknown = null;
  private readonly options: Required<Omit<ModelAvailabilityOptions, 'onStateChange'>> & Pick<ModelAvailabilityOptions, 'onStateChange'>;

  constructor(
    initial: LoadedModel,
    private readonly load: () => Promise<LoadedModel>,
    options: ModelAvailabilityOptions = {},
  ) {
    this.model = initial;
    this.options = {
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      onStateChange: options.onStateChange,
      setTimer: options.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref()),
      clearTimer: options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout)),
      now: options.now ?? Date.now,
    };
    this.current = { state: 'ready', restarts: 0, lastError: null, since: this.options.now() };
  }

  get status(): ModelStatus {
    return { ...this.current };
  }

  /** Runs the current model. @throws ModelUnavailableError (retriable) while it is not ready or when its worker dies. */
  readonly run: RunModel = async (inputs, tasks) => {
    if (this.current.state !== 'ready') throw new ModelUnavailableError(this.current.state);
    const model = this.model;
    try {
      return await model.run(inputs, tasks);
    } catch (error) {
      if (!isModelUnavailable(error)) throw error;
      if (model === this.model && this.current.state === 'ready') this.restart(error);
      throw new ModelUnavailableError(this.current.state, error);
    }
  };

  async close(): Promise<void> {
    if (this.current.state === 'closed') return;
    if (this.timer !== null) this.options.clearTimer(this.timer);
    this.timer = null;
    this.set({ state: 'closed' });
    await this.model.close();
  }

  private restart(cause: unknown): void {
    this.set({ state: 'restarting', lastError: (cause as Error).message ?? String(cause) });
    void this.model.close().catch(() => undefined);
    this.schedule(1);
  }

  private schedule(attempt: number): void {
    const delay = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
    this.timer = this.options.setTimer(() => void this.reload(attempt), delay);
  }

  private async reload(attempt: number): Promise<void> {
    this.timer = null;
    if (this.current.state !== 'restarting') return;
    let loaded: LoadedModel;
    try {
      loaded = await this.load();
    } catch (error) {
      if (this.current.state !== 'restarting') return;
      this.set({ state: 'restarting', lastError: `reload ${attempt} failed: ${(error as Error).message ?? String(error)}` });
      this.schedule(attempt + 1);
      return;
    }
    if (this.current.state !== 'restarting') {
      await loaded.close();
      return;
    }
    this.model = loaded;
    this.set({ state: 'ready', restarts: this.current.restarts + 1 });
  }

  private set(change: Partial<ModelStatus>): void {
    this.current = { ...this.current, ...change, since: this.options.now() };
    this.options.onStateChange?.(this.status);
  }
}
