/**
 * Keeps a running processor on the registry's production version: follows the models topic, and
 * when production changes, loads the new version beside the current one (a second encoder worker),
 * verifies it (digests against the record, parity, a smoke prediction — which also warms it up),
 * then swaps it in between micro-batches. A version that fails is refused: logged, counted, recorded
 * `rejected` once, and the current model keeps serving.
 */
import type { Logger } from 'pino';
import { productionVersion, type RegistryState, type VersionState } from '../../model/registry/state';
import { appendRejectionOnce, RegistryFollower } from '../../model/registry/log';
import type { ModelRegistry } from '../../model/registry/registry';
import { ModelVerificationError } from '../../model/registry/verify';
import { modelProduction, modelRefused, modelSwapSeconds } from './metrics';
import type { ServedModel, SwappableModel } from './model-source';

/** Loads and verifies an artifact folder for serving; throws ModelVerificationError. */
export type LoadModel = (dir: string, version: VersionState) => Promise<ServedModel>;

/** Marks `model` as the one served in the info metric (and unmarks the previous one). */
export function markServed(model: ServedModel, previous?: ServedModel): void {
  if (previous) modelProduction.remove({ name: previous.identity.name, version: previous.identity.version, digest: previous.digest ?? '' });
  modelProduction.set({ name: model.identity.name, version: model.identity.version, digest: model.digest ?? '' }, 1);
}

export class ModelFollower {
  private readonly follower: RegistryFollower;
  /** Offsets of production records refused here: never retried (a new promotion is a new record). */
  private readonly refused = new Set<bigint>();
  private busy: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Settles when the swaps so far are done (tests, benchmarks). */
  lastSwap: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly model: SwappableModel,
    private readonly load: LoadModel,
    private readonly log: Logger,
    private readonly loadTimeoutMs: number,
  ) {
    this.follower = new RegistryFollower(registry.kafka, registry.codec, registry.topic);
  }

  /** Starts following; resolves once caught up with the topic (and any swap that needed started). */
  async start(): Promise<void> {
    this.follower.onChange((state) => this.reconcile(state));
    await this.follower.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.follower.stop();
    await this.busy?.catch(() => undefined);
  }

  private reconcile(state: RegistryState): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true; // look again when the running swap is done: only the latest production matters
      return;
    }
    const wanted = productionVersion(state, this.model.served.identity.name);
    if (!wanted || this.refused.has(wanted.offset)) return;
    const served = this.model.served;
    if (wanted.record.version === served.identity.version && wanted.record.artifactDigest === served.digest) return;
    this.busy = this.swapTo(wanted).finally(() => {
      this.busy = null;
      if (this.again) {
        this.again = false;
        this.reconcile(this.follower.state);
      }
    });
    this.lastSwap = this.busy;
  }

  private async swapTo(wanted: VersionState): Promise<void> {
    const { name, version, artifactDigest } = wanted.record;
    const started = performance.now();
    this.log.info({ model: name, version, digest: artifactDigest }, 'new production version: loading it beside the current one');
    let next: ServedModel;
    try {
      const dir = await this.registry.artifactDir(wanted.record).catch((cause: unknown) => {
        throw new ModelVerificationError('store', (cause as Error).message, { cause });
      });
      next = await withTimeout(this.load(dir, wanted), this.loadTimeoutMs, `loading ${name}@${version}`);
    } catch (error) {
      await this.refuse(wanted, error);
      return;
    }
    if (this.stopped) {
      await next.close();
      return;
    }
    const previous = this.model.swap(next);
    markServed(next, previous);
    modelSwapSeconds.observe((performance.now() - started) / 1000);
    this.log.info(
      { model: name, version, previous: previous.identity.version, batching: next.batching, ms: Math.round(performance.now() - started) },
      'now serving the new production version',
    );
  }

  private async refuse(wanted: VersionState, error: unknown): Promise<void> {
    this.refused.add(wanted.offset);
    await refuseVersion(this.registry, wanted, error, this.log, this.model.served.identity.version);
  }
}

/**
 * Refuses a production version this processor cannot serve: logs it, counts it by the failed check,
 * and records it `rejected` with the reason — once, however many processors refuse it.
 */
export async function refuseVersion(
  registry: ModelRegistry,
  wanted: VersionState,
  error: unknown,
  log: Logger,
  serving: string | null,
): Promise<void> {
  const check = error instanceof ModelVerificationError ? error.check : 'load';
  const reason = `${check}: ${(error as Error).message}`;
  modelRefused.inc({ reason: check });
  const { name, version } = wanted.record;
  log.error(
    { model: name, version, check, err: error, serving },
    `refused ${name}@${version}${serving ? `; still serving ${serving}` : ''}`,
  );
  try {
    const rejection = {
      ...wanted.record,
      status: 'rejected' as const,
      reason,
      changedBy: `processor ${registry.config.processor.groupId} pid ${process.pid}`,
      changedAt: Date.now(),
    };
    const wrote = await appendRejectionOnce(registry.kafka, registry.codec, registry.topic, rejection, wanted.offset);
    log.info({ model: name, version, wrote }, wrote ? 'recorded the rejection' : 'the rejection was already recorded');
  } catch (writeError) {
    log.warn(
      { err: writeError, model: name, version },
      'could not record the rejection (another processor may be writing it); still refusing the version',
    );
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ModelVerificationError('timeout', `${what} took longer than models.loadTimeoutMs (${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (error) {
    // A load that finishes after its timeout must not leak its encoder worker.
    void work.then((m) => (m as { close?: () => Promise<void> }).close?.()).catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
