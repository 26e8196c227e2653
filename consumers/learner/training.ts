/**
 * One training run of the learner: the production model (the parent), a consistent dataset
 * snapshot, the candidate's version, buildCandidate (model/learn/candidate.ts) into a temporary
 * folder under the learner's state directory, registration as a `candidate`, the changelog's
 * `trained` mark, and — with learn.autoPromote — a promotion through the registry's gate.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { TridentConfig } from '../../common/config';
import { TridentError } from '../../common/errors';
import { resolveModelDir } from '../../model/artifacts';
import { buildCandidate as realBuildCandidate } from '../../model/learn/candidate';
import type { BuildCandidateOptions, CandidateBuild, DatasetSnapshot, Example, LearnProgress } from '../../model/learn/types';
import { loadManifest, type Manifest } from '../../model/manifest';
import type { ModelRegistry } from '../../model/registry/registry';
import { chooseModel } from '../../model/registry/resolve';
import { productionVersion, resolveVersion, type ModelRecord } from '../../model/registry/state';
import { checkGate, describeRegression, type GateResult, type VersionMetrics } from '../../model/registry/gate';
import { TextTokenizer } from '../../model/tokenize';
import { parseDuration } from '../processor/seen-ids';
import type { Learner, LearnerModel } from './learner';
import { feedbackModelOf } from './validate-feedback';
import { nextCandidateVersion } from './trigger';
import { observeTraining } from './metrics';

export interface Production {
  dir: string;
  manifest: Manifest;
  /** Where it came from: the registry's production version, a pinned folder or version, or the default local artifact. */
  source: 'registry' | 'pinned' | 'default';
}

/**
 * The model to learn from, chosen as `trident serve` chooses what it serves: a folder or version
 * in model.path is pinned; otherwise the registry's production version; with none, the default
 * local artifact (the newest under model/artifacts/).
 */
export async function resolveProduction(config: TridentConfig, registry: ModelRegistry): Promise<Production> {
  const choice = chooseModel(config.model.path);
  const at = (dir: string, source: Production['source']): Production => ({ dir, manifest: loadManifest(dir).manifest, source });
  if (choice.kind === 'folder') return at(choice.dir, 'pinned');
  const state = await registry.state();
  if (choice.kind === 'version') return at(await registry.artifactDir(resolveVersion(state, choice.ref).record), 'pinned');
  const production = productionVersion(state, choice.name);
  if (production) return at(await registry.artifactDir(production.record), 'registry');
  return at(resolveModelDir(), 'default');
}

/** What validation needs of a production model. Blocks while it loads the tokenizer. */
export function learnerModelOf(production: Production): LearnerModel {
  return {
    feedback: feedbackModelOf(production.manifest),
    tokenizer: TextTokenizer.fromFile(join(production.dir, production.manifest.tokenizer.file)),
  };
}

export type TrainingOutcome =
  | { kind: 'nothing'; reason: string; snapshot: DatasetSnapshot }
  | {
      kind: 'registered';
      build: CandidateBuild;
      record: ModelRecord;
      /** null: not asked (learn.autoPromote off); else promoted or the gate's refusal. */
      promotion: null | { promoted: true } | { promoted: false; reason: string };
    };

export interface TrainingDeps {
  config: TridentConfig;
  registry: ModelRegistry;
  learner: Learner;
  log: Logger;
  onProgress?: (event: LearnProgress) => void;
  /** Injected for tests; default: model/learn/candidate.ts. */
  buildCandidate?: (options: BuildCandidateOptions) => Promise<CandidateBuild>;
  now?: () => number;
}

/** The learner's state directory (candidate builds go under it). */
export function learnStateDir(config: TridentConfig): string {
  return resolve(config.learn.stateDir ?? join(config.stack.home, 'learn'));
}

/** learn.evalDataDir: unset → ../shared/data beside the checkout when it exists; null → none. */
export function evalDataDir(config: TridentConfig, checkoutRoot = repoRoot()): string | null {
  if (config.learn.evalDataDir !== undefined) return config.learn.evalDataDir;
  const shared = resolve(checkoutRoot, '..', 'shared', 'data');
  return existsSync(shared) ? shared : null;
}

function repoRoot(): string {
  const parts = __dirname.split(/[\\/]/);
  // consumers/learner (ts) or dist/consumers/learner (js)
  return parts[parts.length - 3] === 'dist' ? join(__dirname, '..', '..', '..') : join(__dirname, '..', '..');
}

export function intervalMs(config: TridentConfig): number {
  return parseDuration(config.learn.interval) ?? 3_600_000;
}

/**
 * Trains on the learner's current dataset when it differs from the last trained one. Throws what
 * buildCandidate or the registry throw (LEARN_UNAVAILABLE without a trainer); the failure is counted.
 */
export async function trainOnce(deps: TrainingDeps): Promise<TrainingOutcome> {
  const { config, registry, learner, log } = deps;
  const now = deps.now ?? Date.now;
  const started = now();
  // A consistent view: no batch is folded in while the examples and snapshot are taken.
  const { examples, snapshot, changes } = await learner.serially(async () => ({
    examples: learner.state.all() as readonly Example[],
    snapshot: learner.state.snapshot(learner.topic),
    changes: learner.state.changes,
  }));
  if (examples.length === 0) return { kind: 'nothing', reason: 'the dataset is empty', snapshot };
  if (learner.state.lastTrained?.digest === snapshot.digest)
    return { kind: 'nothing', reason: `dataset unchanged since ${learner.state.lastTrained.version}`, snapshot };

  const production = await resolveProduction(config, registry);
  learner.setModel(learnerModelOf(production));
  const parent = production.manifest;
  const registered = [...(await registry.state()).versions.values()]
    .filter((v) => v.record.name === parent.name)
    .map((v) => v.record.version);
  const version = nextCandidateVersion(parent.version, registered);
  const root = learnStateDir(config);
  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(join(root, 'build-'));
  try {
    log.info(
      { parent: `${parent.name}@${parent.version}`, from: production.source, version, snapshot: snapshot.id, examples: examples.length },
      'training a candidate',
    );
    const build = await (deps.buildCandidate ?? realBuildCandidate)({
      parentDir: production.dir,
      examples,
      snapshot,
      outDir: join(work, `${parent.name}-${version}`),
      version,
      minExamplesPerLabel: config.learn.minExamplesPerLabel,
      featureCache: { dir: config.learn.featureCacheDir, maxBytes: config.learn.featureCacheBytes },
      evalDataDir: evalDataDir(config),
      maxEpochs: config.learn.maxEpochs,
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    });
    const outcome = await registry.register(build.dir);
    if (outcome.kind === 'already')
      log.warn(
        { version: outcome.record.version },
        'the candidate has the digest of an already registered version; nothing new registered',
      );
    await learner.markTrained({ snapshotId: snapshot.id, digest: snapshot.digest, changes, version: outcome.record.version, at: now() });
    let promotion: Extract<TrainingOutcome, { kind: 'registered' }>['promotion'] = null;
    if (config.learn.autoPromote) {
      // The registry's gate sees only metrics both records carry; the held-back and @runtime dev
      // comparisons exist only here, so they gate the automatic promotion first.
      const own = compareWithProduction(build, config.models.gateTolerance);
      if (!own.passed) {
        const reason = `worse than production on ${own.regressions.map((r) => describeRegression(r, config.models.gateTolerance)).join('; ')}`;
        promotion = { promoted: false, reason };
        log.warn({ version: outcome.record.version }, `not promoted: ${reason}`);
      }
    }
    if (config.learn.autoPromote && !promotion) {
      try {
        await registry.promote(
          { name: outcome.record.name, version: outcome.record.version },
          { reason: `trident learn: dataset ${snapshot.id} (learn.autoPromote)` },
        );
        promotion = { promoted: true };
      } catch (error) {
        // The gate's refusal (or any other) leaves the candidate registered; production stays.
        promotion = { promoted: false, reason: (error as Error).message };
        log.warn({ version: outcome.record.version, code: (error as TridentError).code }, `not promoted: ${(error as Error).message}`);
      }
    }
    observeTraining({ version: outcome.record.version }, (now() - started) / 1000, now());
    return { kind: 'registered', build, record: outcome.record, promotion };
  } catch (error) {
    observeTraining({ code: (error as TridentError).code ?? 'LEARN_TRAINING_FAILED' }, (now() - started) / 1000, now());
    throw error;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The candidate against production on what the learner measured for both in the same run: each
 * retrained head's held-back split and the @runtime dev splits. New heads have no production side.
 * Pure.
 */
export function compareWithProduction(build: CandidateBuild, tolerancePoints: number): GateResult {
  const candidate: VersionMetrics = {};
  const production: VersionMetrics = {};
  for (const h of build.heads) {
    if (!h.heldout?.production) continue;
    candidate[`feedback/${h.head}/heldout`] = h.heldout.candidate;
    production[`feedback/${h.head}/heldout`] = h.heldout.production;
  }
  for (const d of build.dev) {
    candidate[d.split] = d.candidate;
    production[d.split] = d.production;
  }
  return checkGate(candidate, production, tolerancePoints);
}
