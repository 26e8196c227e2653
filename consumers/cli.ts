/** `trident serve`: the streaming processor, with its metrics and health endpoint. */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { stageLogger } from '../common/logger';
import { collectProcessMetrics } from '../common/metrics';
import { serveMetrics, type MetricsServer } from '../common/metrics-server';
import { EventCodec } from '../schemas/codec';
import { Pipeline } from '../model/pipeline';
import { resolveModelDir } from '../model/artifacts';
import { setSimdEnabled } from '../model/simd';
import { DEFAULT_LIMITS } from '../model/validate';
import { Processor } from './processor/processor';
import { DriftMonitor } from './processor/drift-monitor';
import { ModelAvailability, type LoadedModel } from './processor/model-availability';
import type { CliContext } from '../common/cli-context';

export interface RunningProcessor {
  processor: Processor;
  /** The model, restarted with backoff when its worker dies. */
  model: ModelAvailability;
  metrics: MetricsServer | null;
  close(): Promise<void>;
}

/** Loads the model, starts the processor and its /metrics server. Resolves once consuming. */
export async function startProcessor(config: TridentConfig): Promise<RunningProcessor> {
  const log = stageLogger('processor');
  collectProcessMetrics();
  setSimdEnabled(config.model.simd);
  const modelDir = resolveModelDir(config.model.path);
  const load = async (): Promise<LoadedModel & { pipeline: Pipeline }> => {
    const pipeline = await Pipeline.load(modelDir, {
      batchSize: config.processor.maxBatchEvents,
      maxBatchTokens: config.processor.maxBatchTokens,
      batching: config.model.batching,
      spinning: config.model.ortSpinning,
      ...(config.model.threads > 0 ? { threads: config.model.threads } : {}),
    });
    return { pipeline, run: (inputs, tasks) => pipeline.run(inputs, tasks), close: () => pipeline.close() };
  };
  const first = await load();
  const identity = { name: first.pipeline.manifest.name, version: first.pipeline.manifest.version };
  log.info({ modelDir, ...identity, tasks: first.pipeline.tasks, batching: config.model.batching }, 'model loaded');
  const model = new ModelAvailability(first, load, {
    onStateChange: (status) => (status.state === 'ready' ? log.info({ model: status }, 'model available again') : log.error({ model: status }, `model ${status.state}`)),
  });
  const kafka = createKafka(config, `trident-processor-${process.pid}`);
  // Live drift statistics (trident_drift_*) when the artifact has a reference profile.json.
  const drift = DriftMonitor.forArtifact(first.pipeline.dir, first.pipeline.manifest);
  const run: typeof model.run = async (inputs, tasks) => {
    const outputs = await model.run(inputs, tasks);
    drift?.observe(inputs, outputs);
    return outputs;
  };
  const processor = new Processor(kafka, EventCodec.fromConfig(config), config, { run, identity, maxTextChars: DEFAULT_LIMITS.maxChars }, log);
  const metrics = await serveMetrics({
    port: config.processor.metricsPort,
    host: config.processor.metricsHost,
    job: 'trident-processor',
    targetsDir: config.processor.metricsTargetsDir ?? join(config.stack.home, 'prometheus-targets'),
    log,
    health: () => {
      const status = model.status;
      const ok = status.state === 'ready';
      return { healthy: ok, ready: ok && processor.running, detail: ok && processor.running ? {} : { model: status, consuming: processor.running } };
    },
  });
  await processor.start();
  return {
    processor,
    model,
    metrics,
    async close() {
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
    .option('--model <dir>', 'model artifact folder (default: model.path, or the newest under model/artifacts/)')
    .option('--metrics-port <port>', 'port of /metrics (0: any free port; a port in use falls back to a free one)')
    .action(async (options: { model?: string; metricsPort?: string }) => {
      const overrides: Record<string, unknown> = {};
      if (options.model) overrides.model = { path: options.model };
      if (options.metricsPort !== undefined) overrides.processor = { metricsPort: Number(options.metricsPort) };
      const config = context.config(overrides);
      const running = await startProcessor(config);
      console.error(`trident serve: consuming ${config.topics.text} as group ${config.processor.groupId}; metrics on :${running.metrics?.port}${running.metrics?.targetFile ? ` (advertised in ${running.metrics.targetFile})` : ''}`);
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
        await running.model.close();
        await running.metrics?.close();
        throw error;
      });
    });
}
