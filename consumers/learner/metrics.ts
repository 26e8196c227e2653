/** The learner's metrics (`trident learn`), declared once on the shared registry. */
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../../common/metrics';
import type { DatasetState } from './dataset';

const registers = [metricsRegistry];

export const feedbackIn = new Counter({
  name: 'trident_learner_feedback_in_total',
  help: 'Feedback events consumed (committed).',
  registers,
});
export const examplesAccepted = new Counter({
  name: 'trident_learner_examples_accepted_total',
  help: 'Feedback events accepted as examples, per head and effect (added, replaced: an older label superseded, unchanged: the same label again).',
  labelNames: ['head', 'effect'] as const,
  registers,
});
export const examplesRejected = new Counter({
  name: 'trident_learner_examples_rejected_total',
  help: 'Feedback events dead-lettered, per error code and stage.',
  labelNames: ['code', 'stage'] as const,
  registers,
});
export const datasetExamples = new Gauge({
  name: 'trident_learner_dataset_examples',
  help: 'Examples in the dataset, per head and split.',
  labelNames: ['head', 'split'] as const,
  registers,
});
export const supersededExamples = new Gauge({
  name: 'trident_learner_superseded_examples',
  help: 'Examples replaced by a newer, conflicting label (since the changelog began).',
  registers,
});
export const trainings = new Counter({
  name: 'trident_learner_trainings_total',
  help: 'Training runs, per result (registered, failed).',
  labelNames: ['result'] as const,
  registers,
});
export const lastTrainingTimestamp = new Gauge({
  name: 'trident_learner_last_training_timestamp_seconds',
  help: 'When the last training run ended (Unix seconds).',
  registers,
});
export const lastTrainingSeconds = new Gauge({
  name: 'trident_learner_last_training_duration_seconds',
  help: 'How long the last training run took, featurising and registration included.',
  registers,
});
export const lastTrainingResult = new Gauge({
  name: 'trident_learner_last_training_info',
  help: 'The last training run: 1 for its result (the candidate version, or `failed` with the error code).',
  labelNames: ['result', 'version', 'code'] as const,
  registers,
});

/** Sets the dataset gauges from the state (after each commit and at restore). */
export function observeDataset(state: DatasetState): void {
  datasetExamples.reset();
  for (const [head, counts] of Object.entries(state.headCounts())) {
    datasetExamples.set({ head, split: 'train' }, counts.train);
    datasetExamples.set({ head, split: 'heldout' }, counts.heldout);
  }
  supersededExamples.set(state.superseded.count);
}

export function observeTraining(outcome: { version: string } | { code: string }, seconds: number, at = Date.now()): void {
  lastTrainingResult.reset();
  if ('version' in outcome) {
    trainings.inc({ result: 'registered' });
    lastTrainingResult.set({ result: 'registered', version: outcome.version, code: '' }, 1);
  } else {
    trainings.inc({ result: 'failed' });
    lastTrainingResult.set({ result: 'failed', version: '', code: outcome.code }, 1);
  }
  lastTrainingTimestamp.set(at / 1000);
  lastTrainingSeconds.set(seconds);
}
