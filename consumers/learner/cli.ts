/**
 * `trident learn`: the learner. Continuously: consume feedback, train when learn.minNewExamples new
 * examples arrived or learn.interval passed with some, register each candidate (and with
 * learn.autoPromote promote it through the gate). `--once`: consume up to the feedback topic's end
 * as of the start, train, register, and print the candidate version (or `nothing to learn`) as the
 * last line of stdout.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../../common/cli-context';
import type { TridentConfig } from '../../common/config';
import { TridentError } from '../../common/errors';
import { createKafka } from '../../common/kafka';
import { stageLogger } from '../../common/logger';
import { collectProcessMetrics } from '../../common/metrics';
import { serveMetrics } from '../../common/metrics-server';
import { ModelRegistry } from '../../model/registry/registry';
import { EventCodec } from '../../schemas/codec';
import { Learner, type BatchReport } from './learner';
import { progressView } from './progress';
import { datasetLines, outcomeLines } from './report';
import { intervalMs, learnerModelOf, resolveProduction, trainOnce, type TrainingOutcome } from './training';
import { trainingDue } from './trigger';

type Log = ReturnType<typeof stageLogger>;

async function openLearner(
  config: TridentConfig,
  log: Log,
  onBatch: (r: BatchReport) => void,
): Promise<{ learner: Learner; registry: ModelRegistry }> {
  const registry = ModelRegistry.fromConfig(config, `trident-learner-models-${process.pid}`);
  const production = await resolveProduction(config, registry);
  log.info(
    { model: production.manifest.name, version: production.manifest.version, from: production.source },
    'validating feedback against this model',
  );
  const learner = new Learner(
    createKafka(config, `trident-learner-${process.pid}`),
    EventCodec.fromConfig(config),
    config,
    learnerModelOf(production),
    log,
    onBatch,
  );
  await learner.restore();
  return { learner, registry };
}

/** `--once`: consume to the end as of now, train, register. Returns the lines to print (the last is the result). */
export async function learnOnce(config: TridentConfig, log: Log, print: (line: string) => void): Promise<TrainingOutcome> {
  let events = 0;
  const dead = new Map<string, number>();
  const { learner, registry } = await openLearner(config, log, (r) => {
    events += r.events;
    for (const d of r.dead) dead.set(d.code, (dead.get(d.code) ?? 0) + 1);
  });
  try {
    const ends = await learner.endOffsets();
    if (!learner.caughtUp(ends)) {
      await learner.start();
      const stopped = learner.done.then(() => {
        throw new TridentError('LEARN_TRAINING_FAILED', 'the learner stopped before it caught up with the feedback topic');
      });
      stopped.catch(() => undefined);
      const caughtUp = (async () => {
        while (learner.running && !learner.caughtUp(ends)) await new Promise((r) => setTimeout(r, 100));
      })();
      await Promise.race([stopped, caughtUp]);
      await learner.stopConsuming();
    }
    const deadText = [...dead].map(([code, n]) => `${code} ×${n}`).join(', ');
    print(
      `consumed ${events} feedback events up to the end of ${config.topics.feedback}; ${[...dead.values()].reduce((a, b) => a + b, 0)} dead-lettered${deadText ? ` (${deadText})` : ''}`,
    );
    for (const line of datasetLines(learner.state.snapshot(learner.topic), learner.state.superseded)) print(line);
    const progress = progressView();
    try {
      return await trainOnce({ config, registry, learner, log, onProgress: (e) => progress.onProgress(e) });
    } finally {
      progress.stop();
    }
  } finally {
    await learner.stop();
  }
}

/** Continuous learning until SIGTERM/SIGINT or a fatal error. */
async function learnContinuously(config: TridentConfig, log: Log): Promise<void> {
  collectProcessMetrics();
  const { learner, registry } = await openLearner(config, log, () => undefined);
  let learnerFailed = false;
  const metrics = await serveMetrics({
    port: config.learn.metricsPort,
    host: config.learn.metricsHost,
    job: 'trident-learner',
    targetsDir: join(config.stack.home, 'prometheus-targets'),
    log,
    health: () => ({ healthy: !learnerFailed, ready: learner.running, detail: learner.running ? {} : { consuming: false } }),
  });
  let tick: NodeJS.Timeout | null = null;
  let training: Promise<void> | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`trident learn: ${signal}: committing the batch in hand, leaving the group…`);
    if (tick) clearInterval(tick);
    void (async () => {
      await training;
      await learner.stop();
      await metrics.close();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await learner.start();
  console.error(
    `trident learn: consuming ${config.topics.feedback} as group ${config.learn.groupId}; ${learner.state.size} examples restored; metrics on :${metrics.port}`,
  );
  const policy = { minNewExamples: config.learn.minNewExamples, intervalMs: intervalMs(config) };
  let lastAttemptAt = Date.now();
  let lastAttemptFailed = false;
  tick = setInterval(() => {
    if (training || !learner.running) return;
    const reason = trainingDue({ newExamples: learner.state.newSinceTraining, lastAttemptAt, lastAttemptFailed }, policy, Date.now());
    if (!reason) return;
    log.info({ reason, newExamples: learner.state.newSinceTraining }, 'training');
    training = trainOnce({ config, registry, learner, log })
      .then((outcome) => {
        lastAttemptFailed = false;
        for (const line of outcomeLines(outcome)) log.info(line);
      })
      .catch((error: unknown) => {
        lastAttemptFailed = true;
        log.error({ err: error, code: (error as TridentError).code }, 'training failed; the next attempt waits learn.interval');
      })
      .finally(() => {
        lastAttemptAt = Date.now();
        training = null;
      });
  }, 1000);
  await learner.done.catch(async (error: unknown) => {
    learnerFailed = true;
    if (tick) clearInterval(tick);
    await metrics.close();
    throw error;
  });
}

export function registerLearnCommand(program: Command, context: CliContext): void {
  program
    .command('learn')
    .description('learn from labeled feedback: validate it into a dataset, train the heads, register candidate versions')
    .option('--once', 'consume the feedback there is now, train, register; print the candidate version (or "nothing to learn") last')
    .option('--model <dir|version>', 'learn from this artifact folder or registry version instead of production')
    .option('--metrics-port <port>', 'port of /metrics (0: any free port)')
    .action(async (options: { once?: boolean; model?: string; metricsPort?: string }) => {
      const overrides: Record<string, unknown> = {};
      if (options.model) overrides.model = { path: options.model };
      if (options.metricsPort !== undefined) overrides.learn = { metricsPort: Number(options.metricsPort) };
      const config = context.config(overrides);
      const log = stageLogger('learner');
      if (!options.once) return learnContinuously(config, log);
      const outcome = await learnOnce(config, log, (line) => console.log(line));
      for (const line of outcomeLines(outcome)) console.log(line);
    });
}
