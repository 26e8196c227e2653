/** `trident serve`: the streaming processor, with its metrics endpoint. */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { stageLogger } from '../common/logger';
import { collectProcessMetrics, metricsRegistry } from '../common/metrics';
import { EventCodec } from '../schemas/codec';
import { Pipeline, type PipelineOptions } from '../model/pipeline';
import { newestArtifact, resolveModelDir } from '../model/cli';
import { DEFAULT_LIMITS } from '../model/validate';
import { ModelRegistry } from '../model/registry/registry';
import { chooseModel } from '../model/registry/resolve';
import { productionVersion, resolveVersion, type VersionState } from '../model/registry/state';
import { loadVerifiedPipeline } from '../model/registry/verify';
import { TridentError } from '../common/errors';
import { Processor } from './processor/processor';
import { SwappableModel, type ServedModel } from './processor/model-source';
import { ModelFollower, markServed, refuseVersion } from './processor/model-follower';
import type { CliContext } from '../cli/main';

export interface RunningProcessor {
  processor: Processor;
  model: SwappableModel;
  /** Null when the model is pinned (a folder or a fixed version). */
  follower: ModelFollower | null;
  metrics: Server | null;
  close(): Promise<void>;
}

function served(pipeline: Pipeline, digest: string | null): ServedModel {
  return {
    identity: { name: pipeline.manifest.name, version: pipeline.manifest.version },
    digest,
    run: (inputs, tasks) => pipeline.run(inputs, tasks),
    close: () => pipeline.close(),
  };
}

/**
 * The model to start with. A folder or a fixed version is pinned; otherwise the registry's
 * production version, followed. An empty registry gets the newest artifact under model/artifacts/
 * registered and promoted (said on stderr), so a fresh stack serves at once. A production version
 * that fails its checks is refused (recorded once) and the one before it is tried.
 */
async function initialModel(config: TridentConfig, options: PipelineOptions, log: ReturnType<typeof stageLogger>): Promise<{ model: ServedModel; registry: ModelRegistry | null }> {
  const choice = chooseModel(config.model.path);
  if (choice.kind === 'folder') {
    const pipeline = await Pipeline.load(choice.dir, options);
    log.info({ modelDir: choice.dir }, 'model pinned to a folder (not following the registry)');
    return { model: served(pipeline, null), registry: null };
  }
  const registry = ModelRegistry.fromConfig(config, `trident-processor-models-${process.pid}`);
  let state = await registry.state();
  if (choice.kind === 'version') {
    const pinned = resolveVersion(state, choice.ref);
    const pipeline = await loadVerifiedPipeline(await registry.artifactDir(pinned.record), options, pinned.record.artifactDigest);
    log.info({ model: pinned.record.name, version: pinned.record.version }, 'model pinned to a registry version (not following the registry)');
    return { model: served(pipeline, pinned.record.artifactDigest), registry: null };
  }
  if (!productionVersion(state, choice.name)) {
    const dir = newestArtifact(artifactsFolder()) ?? resolveModelDir(undefined);
    const { record } = await registry.register(dir);
    await registry.promote({ name: record.name, version: record.version }, { reason: 'first production version: trident serve found none' }).catch((error: unknown) => {
      if ((error as TridentError).code !== 'MODEL_ALREADY_PRODUCTION') throw error; // another processor did it first
    });
    console.error(`trident serve: the model registry had no production version; registered and promoted ${record.name} ${record.version} from ${dir}`);
    state = await registry.state();
  }
  for (let attempt = 0; ; attempt++) {
    const wanted: VersionState | null = productionVersion(state, choice.name);
    if (!wanted) throw new TridentError('MODEL_VERSION_UNKNOWN', 'no production version left in the model registry that passes its checks; promote one (trident models promote VERSION)');
    try {
      const pipeline = await loadVerifiedPipeline(await registry.artifactDir(wanted.record), options, wanted.record.artifactDigest);
      return { model: served(pipeline, wanted.record.artifactDigest), registry };
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
  const options: PipelineOptions = {
    batchSize: config.processor.maxBatchEvents,
    maxBatchTokens: config.processor.maxBatchTokens,
    batching: config.model.batching,
    ...(config.model.threads > 0 ? { threads: config.model.threads } : {}),
  };
  const { model: first, registry } = await initialModel(config, options, log);
  const model = new SwappableModel(first);
  markServed(first);
  log.info({ model: first.identity.name, version: first.identity.version, digest: first.digest, batching: config.model.batching }, 'model loaded');
  let follower: ModelFollower | null = null;
  if (registry) {
    const load = async (dir: string, version: VersionState) => served(await loadVerifiedPipeline(dir, options, version.record.artifactDigest), version.record.artifactDigest);
    follower = new ModelFollower(registry, model, load, log, config.models.loadTimeoutMs);
    await follower.start();
  }
  const kafka = createKafka(config, `trident-processor-${process.pid}`);
  const processor = new Processor(kafka, EventCodec.fromConfig(config), config, { acquire: model.acquire, maxTextChars: DEFAULT_LIMITS.maxChars }, log);
  const metrics = config.processor.metricsPort > 0 ? await serveMetrics(config.processor.metricsPort, config.processor.metricsHost) : null;
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
      metrics?.close();
    },
  };
}

function serveMetrics(port: number, host: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('Content-Type', metricsRegistry.contentType);
      res.end(await metricsRegistry.metrics());
    } else if (req.url === '/healthz') {
      res.end('ok\n');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export function registerConsumerCommands(program: Command, context: CliContext): void {
  program
    .command('serve')
    .description('run the streaming processor: consume texts, publish results per task (exactly once)')
    .option('--model <dir|version>', 'an artifact folder or a registry version (1.1.0, NAME@VERSION) pins the model; production (the default) follows the registry')
    .option('--metrics-port <port>', 'port of /metrics (0: none)')
    .action(async (options: { model?: string; metricsPort?: string }) => {
      const overrides: Record<string, unknown> = {};
      if (options.model) overrides.model = { path: options.model };
      if (options.metricsPort !== undefined) overrides.processor = { metricsPort: Number(options.metricsPort) };
      const config = context.config(overrides);
      const running = await startProcessor(config);
      console.error(`trident serve: consuming ${config.topics.text} as group ${config.processor.groupId}; metrics on :${config.processor.metricsPort}`);
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
        await running.follower?.stop();
        await running.model.close();
        running.metrics?.close();
        throw error;
      });
    });
}
