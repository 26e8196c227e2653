/**
 * One evaluation run, shared by `trident eval` and `trident replay`: feed it chunks of events, it
 * runs them through the models, streams `predictions.jsonl`, and at the end writes `report.json`
 * and `report.html` into the output folder.
 */
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import type { PredictInput, PredictOutput } from '../types';
import { driftSection, type DriftReport } from './drift';
import { ArtifactProfiler } from './profiler';
import { renderReportHtml } from './html';
import { answerTexts, type EventGold } from './labels';
import type { ModelSet } from './models';
import { quantile } from './metrics';
import { compareModels, scoreModel, type AbTask, type Disagreement, type EvalEvent, type ModelScores } from './score';

/** An event to evaluate: the model input, and its gold labels when any. */
export interface EvalInput {
  input: PredictInput;
  gold: EventGold | null;
}

export interface RuntimeStats {
  name: string;
  version: string;
  artifact: string;
  texts: number;
  seconds: number;
  texts_per_s: number;
  /** Model time per event: a chunk's time ÷ its events (events run in chunks, as offline prediction does). */
  latency_ms: { mean: number; p50: number; p95: number; p99: number };
  errors: Record<string, number>;
}

/** report.json: the part other tools rely on is range, models, ab and drift. */
export interface Report {
  partial: boolean;
  partial_reason?: string;
  created: string;
  source: Record<string, unknown>;
  range: Record<string, unknown>;
  events: { read: number; evaluated: number; labeled: number };
  skipped: { total: number; by_code: Record<string, number> };
  labels: {
    source: string;
    read: number;
    matched: number;
    without_event: number;
    ids_without_event_sample: string[];
    invalid_by_code?: Record<string, number>;
  };
  models: Record<string, ModelScores>;
  runtime: Record<string, RuntimeStats>;
  ab: Record<string, AbTask> | null;
  disagreements: Disagreement[];
  drift: Record<string, DriftReport | { available: false; reason: string }>;
}

/** Gold labels as written to predictions.jsonl: answers resolved to their strings. */
export function goldForLine(gold: EventGold, text: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...gold };
  if (gold.answers) out.answers = Object.fromEntries(Object.entries(gold.answers).map(([q, a]) => [q, answerTexts(a, text)]));
  return out;
}

export class EvaluationRun {
  private readonly events: EvalEvent[] = [];
  private readonly outputs: Array<Map<string, PredictOutput>>;
  private readonly errors: Array<Record<string, number>>;
  private readonly skippedByCode: Record<string, number> = {};
  private readonly predictions: WriteStream;
  private read = 0;
  /** Per model: its tokenizer and the live drift profile of what it evaluated. */
  private readonly profiles: ArtifactProfiler[];

  constructor(
    readonly models: ModelSet,
    readonly outDir: string,
  ) {
    mkdirSync(outDir, { recursive: true });
    this.predictions = createWriteStream(path.join(outDir, 'predictions.jsonl'));
    this.outputs = models.models.map(() => new Map());
    this.errors = models.models.map(() => ({}));
    this.profiles = models.models.map((m) => new ArtifactProfiler(m.artifact, m.pipeline.manifest));
  }

  /** Counts an event that was read but could not be evaluated (decode failure, invalid event), by code. */
  skip(code: string): void {
    this.read++;
    this.skippedByCode[code] = (this.skippedByCode[code] ?? 0) + 1;
  }

  /** Runs a chunk through every model and writes its prediction lines. Does not block. */
  async add(chunk: readonly EvalInput[]): Promise<ModelOutcomeLines> {
    this.read += chunk.length;
    const outcomes = await this.models.predict(chunk.map((c) => c.input));
    const lines: string[] = [];
    chunk.forEach(({ input, gold }, i) => {
      this.events.push({ id: input.id, text: input.text, gold });
      this.models.models.forEach((model, m) => {
        const outcome = outcomes[m][i];
        const latency = model.latenciesMs[model.latenciesMs.length - chunk.length + i];
        if ('output' in outcome) this.outputs[m].set(input.id, outcome.output);
        else this.errors[m][outcome.error.code] = (this.errors[m][outcome.error.code] ?? 0) + 1;
        lines.push(
          JSON.stringify({
            id: input.id,
            model: model.info.key,
            ...outcome,
            ...(gold ? { gold: goldForLine(gold, input.text) } : {}),
            latency_ms: round(latency, 3),
          }),
        );
      });
    });
    for (const [m, profiler] of this.profiles.entries())
      await profiler.add(
        chunk.map((c) => c.input.text),
        outcomes[m].map((o) => ('output' in o ? o.output : null)),
      );
    for (const line of lines)
      if (!this.predictions.write(line + '\n')) await new Promise<void>((r) => this.predictions.once('drain', () => r()));
    return { outcomes, models: this.models.models.map((m) => m.info.key) };
  }

  /** Outputs of model `m` so far (id → output). */
  outputsOf(m: number): ReadonlyMap<string, PredictOutput> {
    return this.outputs[m];
  }

  /**
   * Scores everything added, writes report.json and report.html, closes predictions.jsonl and
   * returns the report. `partial` marks a run stopped early (Ctrl-C) — the report says so.
   */
  async finish(meta: {
    source: Record<string, unknown>;
    range: Record<string, unknown>;
    labels: Report['labels'];
    partial?: string;
  }): Promise<Report> {
    await new Promise<void>((resolve, reject) => this.predictions.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const list = this.models.models;
    const models: Record<string, ModelScores> = {};
    const runtime: Record<string, RuntimeStats> = {};
    const drift: Report['drift'] = {};
    list.forEach((model, m) => {
      models[model.info.key] = scoreModel(this.events, this.outputs[m], model.info);
      const sorted = [...model.latenciesMs].sort((a, b) => a - b);
      runtime[model.info.key] = {
        name: model.name,
        version: model.version,
        artifact: model.artifact,
        texts: model.texts,
        seconds: round(model.seconds, 3),
        texts_per_s: model.seconds > 0 ? round(model.texts / model.seconds, 2) : 0,
        latency_ms: {
          mean: sorted.length ? round(sorted.reduce((s, x) => s + x, 0) / sorted.length, 3) : 0,
          p50: round(quantile(sorted, 0.5) || 0, 3),
          p95: round(quantile(sorted, 0.95) || 0, 3),
          p99: round(quantile(sorted, 0.99) || 0, 3),
        },
        errors: this.errors[m],
      };
      drift[model.info.key] = driftSection(model.artifact, this.events, this.profiles[m].build('evaluated events'));
    });
    const compared =
      list.length === 2 ? compareModels(this.events, [this.outputs[0], this.outputs[1]], [list[0].info, list[1].info]) : null;
    const skippedTotal = Object.values(this.skippedByCode).reduce((s, x) => s + x, 0);
    const report: Report = {
      partial: meta.partial !== undefined,
      ...(meta.partial !== undefined ? { partial_reason: meta.partial } : {}),
      created: new Date().toISOString(),
      source: meta.source,
      range: meta.range,
      events: { read: this.read, evaluated: this.events.length, labeled: this.events.filter((e) => e.gold).length },
      skipped: { total: skippedTotal, by_code: this.skippedByCode },
      labels: meta.labels,
      models,
      runtime,
      ab: compared?.ab ?? null,
      disagreements: compared?.disagreements ?? [],
      drift,
    };
    writeFileSync(path.join(this.outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(path.join(this.outDir, 'report.html'), renderReportHtml(report));
    return report;
  }
}

export interface ModelOutcomeLines {
  outcomes: Awaited<ReturnType<ModelSet['predict']>>;
  models: string[];
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
