/** `trident serve`: the streaming processor, with its metrics and health endpoint. */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { stageLogger } from '../common/logger';
import { collectProcessMetrics } from '../common/metrics';
import { serveMetrics, type MetricsServer } from '../common/metrics-server';
import { EventCodec } from '../schemas/codec';
import { Pipeline, type PipelineOptions } from '../model/pipeline';
import { newestArtifact, resolveModelDir } from '../model/artifacts';
import { setSimdEnabled } from '../model/simd';
import { DEFAULT_LIMITS } from '../model/validate';
import { ModelRegistry } from '../model/registry/registry';
import { chooseModel } from '../model/registry/resolve';
import { productionVersion, resolveVersion, type VersionState } from '../model/registry/state';
import { loadVerifiedPipeline } from '../model/registry/verify';
import { TridentError } from '../common/errors';
import { Processor } from './processor/processor';
import { SwappableModel, type ServedModel } from './processor/model-source';
import { DriftMonitor } from './processor/drift-monitor';
import { ModelAvailability, type LoadedModel } from './processor/model-availability';
import { ModelFollower, markServed, refuseVersion } from './processor/model-follower';
import type { CliContext } from '../common/cli-context';

export interface RunningProcessor {
  processor: Processor;
  model: SwappableModel;
  /** Null when the model is pinned (a folder or a fixed version). */
  follower: ModelFollower | null;
  metrics: MetricsServer | null;
  close(): Promise<void>;
}

type Log = ReturnType<typeof stageLogger>;

/**
 * A loaded version as the processor serves it: its worker restarted with backoff when it dies
 * (ModelAvailability; the events of that moment stay uncommitted), and its live drift statistics
 * (trident_drift_*) when the artifact has a reference profile.json.
 */
async function served(load: () => Promise<Pipeline>, digest: string | null, log: Log): Promise<ServedModel> {
  const loadModel = async (): Promise<LoadedModel & { pipeline: Pipeline }> => {
    const pipeline = await load();
    return { pipeline, run: (inputs, tasks) => pipeline.run(inputs, tasks), close: () => pipeline.close() };
  };
  const first = await loadModel();
  const identity = { name: first.pipeline.manifest.name, version: first.pipeline.manifest.version };
  const batching = first.pipeline.batching;
  const sessions = first.pipeline.sessions;
  const availability = new ModelAvailability(first, loadModel, {
    onStateChange: (status) => {
      // `closed` is a deliberate shutdown (or a swapped-out version draining), not a failure.
      if (status.state === 'ready') log.info({ ...identity, model: status }, 'model available again');
      else if (status.state === 'closed') log.info({ ...identity, model: status }, 'model closed');
      else log.error({ ...identity, model: status }, `model ${status.state}`);
    },
  });
  const drift = DriftMonitor.forArtifact(first.pipeline.dir, first.pipeline.manifest);
  return {
    identity,
    digest,
    batching,
    sessions,
    run: async (inputs, tasks) => {
      const outputs = await availability.run(inputs, tasks);
      drift?.observe(inputs, outputs);
      return outputs;
    },
    status: () => availability.status,
    close: () => availability.close(),
  };
}

/**
 * The model to start with. A folder or a fixed version is pinned; otherwise the registry's
 * production version, followed. An empty registry gets the newest artifact under model/artifacts/
 * registered and promoted (said on stderr), so a fresh stack serves at once. A production version
 * that fails its checks is refused (recorded once) and the one before it is tried.
 */
async function initialModel(
  config: TridentConfig,
  options: PipelineOptions,
  log: Log,
): Promise<{ model: ServedModel; registry: ModelRegistry | null }> {
  const choice = chooseModel(config.model.path);
  if (choice.kind === 'folder') {
    const model = await served(() => Pipeline.load(choice.dir, options), null, log);
    log.info({ modelDir: choice.dir }, 'model pinned to a folder (not following the registry)');
    return { model, registry: null };
  }
  const registry = ModelRegistry.fromConfig(config, `trident-processor-models-${process.pid}`);
  let state = await registry.state();
  if (choice.kind === 'version') {
    const pinned = resolveVersion(state, choice.ref);
    const dir = await registry.artifactDir(pinned.record);
    const model = await served(() => loadVerifiedPipeline(dir, options, pinned.record.artifactDigest), pinned.record.artifactDigest, log);
    log.info(
      { model: pinned.record.name, version: pinned.record.version },
      'model pinned to a registry version (not following the registry)',
    );
    return { model, registry: null };
  }
  if (!productionVersion(state, choice.name)) {
    const dir = newestArtifact(artifactsFolder()) ?? resolveModelDir(undefined);
    const { record } = await registry.register(dir);
    await registry
      .promote({ name: record.name, version: record.version }, { reason: 'first production version: trident serve found none' })
      .catch((error: unknown) => {
        if ((error as TridentError).code !== 'MODEL_ALREADY_PRODUCTION') throw error; // another processor did it first
      });
    console.error(
      `trident serve: the model registry had no production version; registered and promoted ${record.name} ${record.version} from ${dir}`,
    );
    state = await registry.state();
  }
  for (let attempt = 0; ; attempt++) {
    const wanted: VersionState | null = productionVersion(state, choice.name);
    if (!wanted)
      throw new TridentError(
        'MODEL_VERSION_UNKNOWN',
        'no production version left in the model registry that passes its checks; promote one (trident models promote VERSION)',
      );
    try {
      const dir = await registry.artifactDir(wanted.record);
      return {
        model: await served(() => loadVerifiedPipeline(dir, options, wanted.record.artifactDigest), wanted.record.artifactDigest, log),
        registry,
      };
    } catch (error) {
      if (attempt >= 5) throw error;
      await refuseVersion(registry, wanted, error, log, null);
      state = await registry.state();
    }
  }
}

/** model/artifacts/ of this checkout (from consumers/ or dist/consumers/). */
function artifactsFolder(): string {
  const parts = __dirname.split(/[\\/]/);
  const root = parts[parts.length - 2] === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');
  return join(root, 'model', 'artifacts');
}

/** Loads the model, starts the processor (following the registry unless pinned) and its /metrics server. Resolves once consuming. */
export async function startProcessor(config: TridentConfig): Promise<RunningProcessor> {
  const log = stageLogger('processor');
  collectProcessMetrics();
  setSimdEnabled(config.model.simd);
  const options: PipelineOptions = {
    batchSize: config.processor.maxBatchEvents,
    maxBatchTokens: config.processor.maxBatchTokens,
    ...(config.model.batching ? { batching: config.model.batching } : {}),
    spinning: config.model.ortSpinning,
    ...(config.model.threads > 0 ? { threads: config.model.threads } : {}),
    ...(config.model.sessions > 0 ? { sessions: config.model.sessions } : {}),
  };
  const { model: first, registry } = await initialModel(config, options, log);
  const model = new SwappableModel(first);
  markServed(first);
  log.info(
    {
      model: first.identity.name,
      version: first.identity.version,
      digest: first.digest,
      batching: first.batching,
      sessions: first.sessions,
    },
    'model loaded',
  );
  let follower: ModelFollower | null = null;
  if (registry) {
    const load = (dir: string, version: VersionState) =>
      served(() => loadVerifiedPipeline(dir, options, version.record.artifactDigest), version.record.artifactDigest, log);
    follower = new ModelFollower(registry, model, load, log, config.models.loadTimeoutMs);
    await follower.start();
  }
  const kafka = createKafka(config, `trident-processor-${process.pid}`);
  const processor = new Processor(
    kafka,
    EventCodec.fromConfig(config),
    config,
    { acquire: model.acquire, maxTextChars: DEFAULT_LIMITS.maxChars },
    log,
  );
  const metrics = await serveMetrics({
    port: config.processor.metricsPort,
    host: config.processor.metricsHost,
    job: 'trident-processor',
    targetsDir: config.processor.metricsTargetsDir ?? join(config.stack.home, 'prometheus-targets'),
    log,
    health: () => {
      const status = model.served.status?.() ?? null;
      const ok = status === null || status.state === 'ready';
      return {
        healthy: ok,
        ready: ok && processor.running,
        detail: ok && processor.running ? {} : { model: status, consuming: processor.running },
      };
    },
  });
  await processor.start();
  return {
    processor,
    model,
    follower,
    metrics,
    async close() {
      await follower?.stop();
      await processor.stop();
      await model.close();
      await metrics.close();
    },
  };
}

export function registerConsumerCommands(program: Command, context: CliContext): void {
  program
    .command('serve')
    .description('run the streaming processor: consume texts, publish results per task (exactly once)')
    .option(
      '--model <dir|version>',
      'an artifact folder or a registry version (1.1.0, NAME@VERSION) pins the model; production (the default) follows the registry',
    )
    .option('--metrics-port <port>', 'port of /metrics (0: any free port; a port in use falls back to a free one)')
    .action(async (options: { model?: string; metricsPort?: string }) => {
      const overrides: Record<string, unknown> = {};
      if (options.model) overrides.model = { path: options.model };
      if (options.metricsPort !== undefined) overrides.processor = { metricsPort: Number(options.metricsPort) };
      const config = context.config(overrides);
      const running = await startProcessor(config);
      console.error(
        `trident serve: consuming ${config.topics.text} as group ${config.processor.groupId}; metrics on :${running.metrics?.port}${running.metrics?.targetFile ? ` (advertised in ${running.metrics.targetFile})` : ''}`,
      );
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.error(`trident serve: ${signal}: finishing the batches in flight, committing, leaving the group…`);
        void running.close().then(() => process.exit(0));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      await running.processor.done.catch(async (error) => {
        // done rejects only after the batches in flight were committed; the model can go now.
        await running.follower?.stop();
        await running.model.close();
        await running.metrics?.close();
        throw error;
      });
    });
}
