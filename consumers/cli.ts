/** `trident serve`: the streaming processor, with its metrics endpoint. */
import { createServer, type Server } from 'node:http';
import type { Command } from 'commander';
import type { TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { stageLogger } from '../common/logger';
import { collectProcessMetrics, metricsRegistry } from '../common/metrics';
import { EventCodec } from '../schemas/codec';
import { Pipeline } from '../model/pipeline';
import { resolveModelDir } from '../model/artifacts';
import { setSimdEnabled } from '../model/simd';
import { DEFAULT_LIMITS } from '../model/validate';
import { Processor } from './processor/processor';
import { DriftMonitor } from './processor/drift-monitor';
import type { CliContext } from '../common/cli-context';

export interface RunningProcessor {
  processor: Processor;
  pipeline: Pipeline;
  metrics: Server | null;
  close(): Promise<void>;
}

/** Loads the model, starts the processor and its /metrics server. Resolves once consuming. */
export async function startProcessor(config: TridentConfig): Promise<RunningProcessor> {
  const log = stageLogger('processor');
  collectProcessMetrics();
  setSimdEnabled(config.model.simd);
  const modelDir = resolveModelDir(config.model.path);
  const pipeline = await Pipeline.load(modelDir, {
    batchSize: config.processor.maxBatchEvents,
    maxBatchTokens: config.processor.maxBatchTokens,
    batching: config.model.batching,
    spinning: config.model.ortSpinning,
    ...(config.model.threads > 0 ? { threads: config.model.threads } : {}),
  });
  const identity = { name: pipeline.manifest.name, version: pipeline.manifest.version };
  log.info({ modelDir, ...identity, tasks: pipeline.tasks, batching: config.model.batching }, 'model loaded');
  const kafka = createKafka(config, `trident-processor-${process.pid}`);
  // Live drift statistics (trident_drift_*) when the artifact has a reference profile.json.
  const drift = DriftMonitor.forArtifact(pipeline.dir, pipeline.manifest);
  const run = async (inputs: Parameters<Pipeline['run']>[0], tasks: Parameters<Pipeline['run']>[1]) => {
    const outputs = await pipeline.run(inputs, tasks);
    drift?.observe(inputs, outputs);
    return outputs;
  };
  const processor = new Processor(kafka, EventCodec.fromConfig(config), config, { run, identity, maxTextChars: DEFAULT_LIMITS.maxChars }, log);
  const metrics = config.processor.metricsPort > 0 ? await serveMetrics(config.processor.metricsPort, config.processor.metricsHost) : null;
  await processor.start();
  return {
    processor,
    pipeline,
    metrics,
    async close() {
      await processor.stop();
      await pipeline.close();
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
    .option('--model <dir>', 'model artifact folder (default: model.path, or the newest under model/artifacts/)')
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
        await running.pipeline.close();
        running.metrics?.close();
        throw error;
      });
    });
}
