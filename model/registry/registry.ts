/**
 * The model registry's operations (register, promote, rollback, look up), over the models topic and
 * the artifact store. The rules are in state.ts and gate.ts; this file sequences them.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Kafka } from 'kafkajs';
import type { TridentConfig } from '../../common/config';
import { TridentError } from '../../common/errors';
import { createKafka } from '../../common/kafka';
import { EventCodec } from '../../schemas/codec';
import { loadManifest } from '../manifest';
import { checkGate, describeRegression, metricsFromManifest } from './gate';
import { appendRecords, ensureModelsTopic, readRegistry, whoAmI } from './log';
import {
  productionVersion,
  recordKey,
  resolveVersion,
  rollbackTarget,
  type ModelRecord,
  type RegistryState,
  type VersionRef,
  type VersionState,
} from './state';
import { artifactDigest, storeFromConfig, type ArtifactStore } from './store';
import { loadVerifiedPipeline, verifyFiles } from './verify';

export type RegisterOutcome = { kind: 'registered'; record: ModelRecord } | { kind: 'already'; record: ModelRecord };

export interface PromoteOptions {
  force?: boolean;
  reason?: string;
  /** Written as the record's reason when no --reason is given (rollback). */
  defaultReason?: string;
}

export class ModelRegistry {
  private topicReady: Promise<void> | null = null;

  constructor(
    readonly kafka: Kafka,
    readonly codec: EventCodec,
    readonly config: TridentConfig,
    readonly store: ArtifactStore,
  ) {}

  static fromConfig(config: TridentConfig, clientId = 'trident-models'): ModelRegistry {
    return new ModelRegistry(createKafka(config, clientId), EventCodec.fromConfig(config), config, storeFromConfig(config.models.store));
  }

  get topic(): string {
    return this.config.topics.models;
  }

  /** The registry state, read from the beginning of the topic to its end. */
  async state(): Promise<RegistryState> {
    await (this.topicReady ??= ensureModelsTopic(this.kafka, this.config));
    return readRegistry(this.kafka, this.codec, this.topic);
  }

  /**
   * Registers an artifact folder: copies it into the store, verifies the copy (manifest, digests,
   * parity, smoke prediction), and only then appends a `candidate` record. The same digest again is
   * a no-op. Throws ModelVerificationError (nothing written), MODEL_VERSION_CONFLICT (that version
   * exists with other content), MODEL_STORE_NOT_WRITABLE.
   */
  async register(dir: string): Promise<RegisterOutcome> {
    const source = path.resolve(dir);
    if (!existsSync(path.join(source, 'manifest.json')))
      throw new TridentError('MODEL_ARTIFACT_INVALID', `${source}: not an artifact folder (no manifest.json)`);
    // Checked on the source first, so errors name the user's files; the staged copy is checked again.
    verifyFiles(source);
    const state = await this.state();
    const same = [...state.versions.values()].find((v) => v.record.artifactDigest === artifactDigest(source));
    if (same) return { kind: 'already', record: same.record };
    const staged = await this.store.stage(source);
    try {
      const pipeline = await loadVerifiedPipeline(staged.dir, { threads: 1 });
      await pipeline.close();
      const { manifest } = loadManifest(staged.dir);
      const existing = state.versions.get(recordKey(manifest.name, manifest.version));
      if (existing) {
        throw new TridentError(
          'MODEL_VERSION_CONFLICT',
          `${manifest.name}@${manifest.version} is already registered with digest ${existing.record.artifactDigest.slice(0, 12)}; this artifact's digest is ${staged.digest.slice(0, 12)} — give it a new version`,
        );
      }
      const location = await staged.commit();
      const now = Date.now();
      const record: ModelRecord = {
        name: manifest.name,
        version: manifest.version,
        artifactDigest: staged.digest,
        location,
        metrics: metricsFromManifest(manifest.metrics),
        status: 'candidate',
        createdAt: now,
        promotedAt: null,
        reason: null,
        changedBy: whoAmI(),
        changedAt: now,
        previousVersion: null,
        forced: false,
      };
      await appendRecords(this.kafka, this.codec, this.topic, [record]);
      return { kind: 'registered', record };
    } catch (error) {
      await staged.discard();
      throw error;
    }
  }

  /**
   * Makes a version production. The gate compares its metrics with the current production
   * version's; a regression past `models.gateTolerance` refuses the promotion (MODEL_GATE_REFUSED)
   * unless `force`, which needs a reason and records it.
   */
  async promote(ref: VersionRef, options: PromoteOptions = {}): Promise<{ record: ModelRecord; previous: VersionState | null }> {
    if (options.force && !options.reason)
      throw new TridentError('CLI_USAGE', 'promote --force needs --reason TEXT (it is recorded with the promotion)');
    const state = await this.state();
    const target = resolveVersion(state, ref);
    const previous = productionVersion(state, target.record.name);
    const label = `${target.record.name}@${target.record.version}`;
    if (previous && previous.record.version === target.record.version)
      throw new TridentError('MODEL_ALREADY_PRODUCTION', `${label} is already the production version`);
    if (target.record.status === 'rejected' && !options.force) {
      throw new TridentError(
        'MODEL_VERSION_REJECTED',
        `${label} was rejected (${target.record.reason ?? 'no reason recorded'}); promote it only with --force --reason TEXT`,
      );
    }
    if (previous && !options.force) {
      const gate = checkGate(target.record.metrics, previous.record.metrics, this.config.models.gateTolerance);
      if (!gate.passed) {
        const lines = gate.regressions.map((r) => describeRegression(r, this.config.models.gateTolerance));
        throw new TridentError(
          'MODEL_GATE_REFUSED',
          `promotion of ${label} refused: worse than production ${previous.record.version} on ${lines.join('; ')} (models.gateTolerance; override with --force --reason TEXT)`,
        );
      }
    }
    const now = Date.now();
    const record: ModelRecord = {
      ...target.record,
      status: 'production',
      promotedAt: now,
      reason: options.reason ?? options.defaultReason ?? null,
      changedBy: whoAmI(),
      changedAt: now,
      previousVersion: previous?.record.version ?? null,
      forced: options.force ?? false,
    };
    await appendRecords(this.kafka, this.codec, this.topic, [record]);
    return { record, previous };
  }

  /** Promotes the production version the current one replaced (no gate; recorded as a rollback). */
  async rollback(name?: string): Promise<{ record: ModelRecord; from: ModelRecord }> {
    const state = await this.state();
    const { from, to } = rollbackTarget(state, name);
    const now = Date.now();
    const record: ModelRecord = {
      ...to.record,
      status: 'production',
      promotedAt: now,
      reason: `rollback from ${from.record.version}`,
      changedBy: whoAmI(),
      changedAt: now,
      previousVersion: from.record.version,
      forced: false,
    };
    await appendRecords(this.kafka, this.codec, this.topic, [record]);
    return { record, from: from.record };
  }

  /**
   * A local folder holding the version's artifact: from the store by digest; when the store does
   * not have it, from the record's location (checked against the digest by whoever loads it).
   * Throws MODEL_ARTIFACT_MISSING naming both places.
   */
  async artifactDir(record: ModelRecord): Promise<string> {
    const fromStore = await this.store.fetch(record.artifactDigest);
    if (fromStore) return fromStore;
    const location = record.location.startsWith('file://') ? new URL(record.location).pathname : record.location;
    if (existsSync(path.join(location, 'manifest.json'))) return location;
    throw new TridentError(
      'MODEL_ARTIFACT_MISSING',
      `${record.name}@${record.version} (digest ${record.artifactDigest.slice(0, 12)}) is neither in the model store ${this.store.description} nor at its recorded location ${record.location}`,
    );
  }
}
