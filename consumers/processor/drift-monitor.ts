/**
 * Live drift statistics of the processor as Prometheus metrics: the same features as an
 * evaluation's drift profile (model/evaluation/drift.ts) as histograms and counters, and the PSI of
 * each feature against the artifact's profile.json over tumbling windows of `windowTexts` texts.
 * Alert rules on them: stack/prometheus-rules.yml. Observing never delays the processor: it runs
 * after results are computed, off the hot path, and drops batches while it is still busy.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../../common/metrics';
import type { Manifest } from '../../model/manifest';
import type { PredictInput, PredictOutput } from '../../model/types';
import { compareProfiles, CONFIDENCE_EDGES, FEATURE_EDGES, readProfile, type Profile } from '../../model/evaluation/drift';
import { ArtifactProfiler } from '../../model/evaluation/profiler';

const registers = [metricsRegistry];

export const driftTextTokens = new Histogram({
  name: 'trident_drift_text_tokens',
  help: 'Tokens per input text (drift feature length_tokens).',
  buckets: [...FEATURE_EDGES.length_tokens],
  registers,
});
export const driftUnknownRate = new Histogram({
  name: 'trident_drift_unknown_token_rate',
  help: 'Share of [UNK] tokens per text (drift feature unknown_rate).',
  buckets: [...FEATURE_EDGES.unknown_rate],
  registers,
});
export const driftNonLatin = new Histogram({
  name: 'trident_drift_non_latin_share',
  help: 'Share of non-Latin letters per text (drift feature non_latin_share).',
  buckets: [...FEATURE_EDGES.non_latin_share],
  registers,
});
export const driftPredictions = new Counter({
  name: 'trident_drift_predictions_total',
  help: 'Predicted labels per task (entity types for entities; answer/no_answer for answers).',
  labelNames: ['task', 'label'] as const,
  registers,
});
export const driftConfidence = new Histogram({
  name: 'trident_drift_confidence',
  help: 'Confidence of each prediction, per task.',
  labelNames: ['task'] as const,
  buckets: CONFIDENCE_EDGES,
  registers,
});
export const driftPsi = new Gauge({
  name: 'trident_drift_psi',
  help: "Population stability index of the last full window against the artifact's profile.json, per feature.",
  labelNames: ['feature'] as const,
  registers,
});
export const driftWindows = new Counter({
  name: 'trident_drift_windows_total',
  help: 'Drift windows completed (PSI recomputed).',
  registers,
});
export const driftSkipped = new Counter({
  name: 'trident_drift_skipped_batches_total',
  help: 'Batches not observed because the previous one was still being profiled.',
  registers,
});

export class DriftMonitor {
  private window: ArtifactProfiler;
  private busy = false;

  private constructor(
    private readonly artifact: string,
    private readonly manifest: Manifest,
    private readonly reference: Profile,
    private readonly windowTexts: number,
  ) {
    this.window = new ArtifactProfiler(artifact, manifest);
  }

  /** A monitor for the artifact, or null when it has no profile.json (then only nothing is exported). */
  static forArtifact(artifact: string, manifest: Manifest, windowTexts = 1000): DriftMonitor | null {
    const reference = readProfile(artifact);
    return reference ? new DriftMonitor(artifact, manifest, reference, windowTexts) : null;
  }

  /** Records a batch's texts and outputs; returns at once (the work runs in the background). */
  observe(inputs: readonly PredictInput[], outputs: readonly PredictOutput[]): void {
    if (this.busy) {
      driftSkipped.inc();
      return;
    }
    this.busy = true;
    this.record(inputs, outputs)
      .catch(() => undefined) // statistics must never take the processor down
      .finally(() => (this.busy = false));
  }

  /** The same as observe, awaited (tests). */
  async record(inputs: readonly PredictInput[], outputs: readonly PredictOutput[]): Promise<void> {
    const features = await this.window.add(
      inputs.map((i) => i.text),
      outputs,
    );
    for (const f of features) {
      driftTextTokens.observe(f.length_tokens);
      driftUnknownRate.observe(f.unknown_rate);
      driftNonLatin.observe(f.non_latin_share);
    }
    for (const output of outputs) {
      if (output.sentiment) observePrediction('sentiment', output.sentiment.label, output.sentiment.scores[output.sentiment.label] ?? 0);
      for (const e of output.entities ?? []) observePrediction('entities', e.label, e.score);
      for (const a of output.answers ?? []) observePrediction('answers', a.answer === null ? 'no_answer' : 'answer', a.score);
      for (const [head, list] of Object.entries(output.categories ?? {}))
        if (list[0]) observePrediction(this.window.taskKey(head), list[0].label, list[0].score);
    }
    const profile = this.window.build('live window');
    if (profile.texts >= this.windowTexts) {
      for (const row of compareProfiles(this.reference, profile).features) driftPsi.set({ feature: row.feature }, row.psi);
      driftWindows.inc();
      this.window = new ArtifactProfiler(this.artifact, this.manifest);
    }
  }
}

function observePrediction(task: string, label: string, confidence: number): void {
  driftPredictions.inc({ task, label });
  driftConfidence.observe({ task }, confidence);
}
