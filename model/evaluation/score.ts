/**
 * Scores model outputs against gold labels: per model and task the metrics of report.json, and for
 * two models the A/B comparison (delta with a bootstrap interval, McNemar, agreement, the largest
 * disagreements). Pure: outputs in, plain JSON out; `trident eval` and `trident replay` share it.
 */
import type { PredictOutput } from '../types';
import { answerTexts, type EventGold } from './labels';
import {
  agreement,
  answers as answerMetrics,
  bootstrapDelta,
  calibration,
  classification,
  entities as entityMetrics,
  mcnemar,
  squadExactMatch,
  squadF1,
  type Calibration,
  type McNemar,
  type Span,
} from './metrics';

/** One evaluated text: its gold labels (null: unlabeled, still used for agreement and drift). */
export interface EvalEvent {
  id: string;
  text: string;
  gold: EventGold | null;
}

/** What scoring needs to know about one model. */
export interface ModelInfo {
  key: string;
  /** Task → labels in head order (`categories:<head>` for category heads). */
  labels: Record<string, string[]>;
  categoryHeads: string[];
}

/** The report's task key: `categories` for a model's only categories head, else `categories:<head>`. */
export function categoryKey(head: string, heads: readonly string[]): string {
  return heads.length === 1 && heads[0] === head ? 'categories' : `categories:${head}`;
}

/** One scorable unit of a task (an event, or an event's question) with its gold and prediction. */
interface Item {
  key: string;
  id: string;
  gold: unknown;
  pred: unknown;
  confidence: number;
  correct: boolean;
}

type TaskKind = 'classification' | 'entities' | 'answers';
const kindOf = (task: string): TaskKind => (task === 'entities' ? 'entities' : task === 'answers' ? 'answers' : 'classification');

/** Resolves the gold head `''` (the model's only categories head) to the head's name. */
function goldCategories(gold: EventGold, heads: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [head, label] of Object.entries(gold.categories ?? {})) {
    const name = head === '' && heads.length === 1 ? heads[0] : head;
    out[name] = label;
  }
  return out;
}

const spanSet = (spans: readonly Span[]): Set<string> => new Set(spans.map((s) => `${s.start}:${s.end}:${s.label}`));
const sameSpans = (a: readonly Span[], b: readonly Span[]): boolean => {
  const x = spanSet(a);
  const y = spanSet(b);
  return x.size === y.size && [...x].every((k) => y.has(k));
};

/** The scorable items per task key of one model's outputs. */
function itemsOf(events: readonly EvalEvent[], outputs: ReadonlyMap<string, PredictOutput>, info: ModelInfo): Map<string, Item[]> {
  const tasks = new Map<string, Item[]>();
  const push = (task: string, item: Item): void => {
    const list = tasks.get(task) ?? [];
    list.push(item);
    tasks.set(task, list);
  };
  for (const event of events) {
    const out = outputs.get(event.id);
    if (!out || !event.gold) continue;
    const gold = event.gold;
    if (gold.sentiment !== undefined && out.sentiment) {
      const pred = out.sentiment.label;
      push('sentiment', {
        key: event.id,
        id: event.id,
        gold: gold.sentiment,
        pred,
        confidence: out.sentiment.scores[pred] ?? 0,
        correct: pred === gold.sentiment,
      });
    }
    for (const [head, label] of Object.entries(goldCategories(gold, info.categoryHeads))) {
      const top = out.categories?.[head]?.[0];
      if (!top) continue;
      push(categoryKey(head, info.categoryHeads), {
        key: event.id,
        id: event.id,
        gold: label,
        pred: top.label,
        confidence: top.score,
        correct: top.label === label,
      });
    }
    if (gold.entities && out.entities) {
      const pred = out.entities.map((e) => ({ label: e.label, start: e.start, end: e.end }));
      const confidence = out.entities.length > 0 ? Math.min(...out.entities.map((e) => e.score)) : 1;
      push('entities', { key: event.id, id: event.id, gold: gold.entities, pred, confidence, correct: sameSpans(pred, gold.entities) });
    }
    for (const [question, golds] of Object.entries(gold.answers ?? {})) {
      const answer = out.answers?.find((a) => a.question === question);
      if (!answer) continue;
      const refs = answerTexts(golds, event.text);
      const em = Math.max(...refs.map((r) => squadExactMatch(answer.answer ?? '', r)));
      push('answers', {
        key: `${event.id}\u0000${question}`,
        id: event.id,
        gold: refs,
        pred: answer.answer,
        confidence: answer.score,
        correct: em === 1,
      });
    }
  }
  return tasks;
}

/** Per-entity calibration: every predicted entity is one prediction, correct when it is an exact gold span. */
function entityCalibration(items: readonly Item[], outputs: ReadonlyMap<string, PredictOutput>): Calibration {
  const conf: number[] = [];
  const correct: boolean[] = [];
  for (const item of items) {
    const gold = spanSet(item.gold as Span[]);
    for (const e of outputs.get(item.id)?.entities ?? []) {
      conf.push(Math.min(1, Math.max(0, e.score)));
      correct.push(gold.has(`${e.start}:${e.end}:${e.label}`));
    }
  }
  return calibration(conf, correct);
}

function metricsOf(task: string, items: readonly Item[], labels: readonly string[]): object {
  switch (kindOf(task)) {
    case 'classification':
      return classification(
        items.map((i) => i.gold as string),
        items.map((i) => i.pred as string),
        labels,
      );
    case 'entities':
      return entityMetrics(
        items.map((i) => i.gold as Span[]),
        items.map((i) => i.pred as Span[]),
      );
    case 'answers':
      return answerMetrics(
        items.map((i) => i.pred as string | null),
        items.map((i) => i.gold as string[]),
      );
  }
}

/** The metric A/B deltas are taken on, per kind of task. */
export const HEADLINE_METRIC: Record<TaskKind, 'accuracy' | 'f1'> = { classification: 'accuracy', entities: 'f1', answers: 'f1' };

export type ModelScores = Record<string, Record<string, unknown>>;

/** report.json's `models[<key>]`: per task, `n` and the task's metrics, plus `ece` and the reliability bins. */
export function scoreModel(events: readonly EvalEvent[], outputs: ReadonlyMap<string, PredictOutput>, info: ModelInfo): ModelScores {
  const scores: ModelScores = {};
  for (const [task, items] of [...itemsOf(events, outputs, info)].sort(([a], [b]) => a.localeCompare(b))) {
    const calib =
      task === 'entities'
        ? entityCalibration(items, outputs)
        : calibration(
            items.map((i) => Math.min(1, Math.max(0, i.confidence))),
            items.map((i) => i.correct),
          );
    scores[task] = { ...metricsOf(task, items, info.labels[task] ?? []), n: items.length, ece: calib.ece, reliability: calib.bins };
  }
  return scores;
}

export interface AbTask {
  metric: string;
  n: number;
  a: number;
  b: number;
  /** metric(B) − metric(A). */
  delta: number;
  ci95: [number, number];
  /** Share of events (labeled or not) where both models gave the same output for this task. */
  agreement: number;
  agreement_n: number;
  mcnemar?: McNemar;
}

export interface Disagreement {
  id: string;
  task: string;
  question?: string;
  text: string;
  /** How far apart the two outputs are, 0..1 (see `disagreementSize`). */
  size: number;
  a: unknown;
  b: unknown;
  gold: unknown;
}

/** A task's output of one model for one event, in a comparable form (null: not produced). */
function taskOutputs(
  out: PredictOutput | undefined,
  task: string,
  heads: readonly string[],
): Array<{ key: string; question?: string; value: unknown; confidence: number }> {
  if (!out) return [];
  if (task === 'sentiment')
    return out.sentiment ? [{ key: '', value: out.sentiment.label, confidence: out.sentiment.scores[out.sentiment.label] ?? 0 }] : [];
  if (task === 'entities')
    return out.entities
      ? [{ key: '', value: out.entities.map((e) => ({ label: e.label, start: e.start, end: e.end, text: e.text })), confidence: 1 }]
      : [];
  if (task === 'answers')
    return (out.answers ?? []).map((a) => ({ key: a.question, question: a.question, value: a.answer, confidence: a.score }));
  const head = heads.find((h) => categoryKey(h, heads) === task);
  const top = head ? out.categories?.[head]?.[0] : undefined;
  return top ? [{ key: '', value: top.label, confidence: top.score }] : [];
}

/**
 * How different two outputs are, 0..1: classification — the mean of both confidences when the
 * labels differ (two confident, different answers rank first), else 0; entities — 1 − Jaccard of
 * the span sets; answers — 1 − SQuAD F1 between the two answers.
 */
export function disagreementSize(
  task: string,
  a: { value: unknown; confidence: number },
  b: { value: unknown; confidence: number },
): number {
  switch (kindOf(task)) {
    case 'classification':
      return a.value === b.value ? 0 : (a.confidence + b.confidence) / 2;
    case 'entities': {
      const x = spanSet(a.value as Span[]);
      const y = spanSet(b.value as Span[]);
      const union = new Set([...x, ...y]).size;
      return union === 0 ? 0 : 1 - [...x].filter((k) => y.has(k)).length / union;
    }
    case 'answers': {
      const p = (a.value as string | null) ?? '';
      const q = (b.value as string | null) ?? '';
      return p === q ? 0 : 1 - squadF1(p, q);
    }
  }
}

function sameOutput(task: string, x: { value: unknown }, y: { value: unknown }): boolean {
  return kindOf(task) === 'entities' ? sameSpans(x.value as Span[], y.value as Span[]) : x.value === y.value;
}

function goldFor(event: EvalEvent, task: string, question: string | undefined, heads: readonly string[]): unknown {
  const gold = event.gold;
  if (!gold) return null;
  if (task === 'sentiment') return gold.sentiment ?? null;
  if (task === 'entities') return gold.entities?.map((s) => ({ ...s, text: event.text.slice(s.start, s.end) })) ?? null;
  if (task === 'answers') return question && gold.answers?.[question] ? answerTexts(gold.answers[question], event.text) : null;
  const cats = goldCategories(gold, heads);
  const head = heads.find((h) => categoryKey(h, heads) === task);
  return head ? (cats[head] ?? null) : null;
}

/**
 * report.json's `ab` (per task) and the largest disagreements, for models A and B (delta = B − A).
 * Tasks are those both models were scored on, or produced outputs for.
 */
export function compareModels(
  events: readonly EvalEvent[],
  outputs: [ReadonlyMap<string, PredictOutput>, ReadonlyMap<string, PredictOutput>],
  infos: [ModelInfo, ModelInfo],
  options: { seed?: number; resamples?: number; topDisagreements?: number } = {},
): { ab: Record<string, AbTask>; disagreements: Disagreement[] } {
  const [itemsA, itemsB] = [itemsOf(events, outputs[0], infos[0]), itemsOf(events, outputs[1], infos[1])];
  const heads = infos[0].categoryHeads.filter((h) => infos[1].categoryHeads.includes(h));
  const tasks = new Set<string>(['sentiment', 'entities', 'answers', ...heads.map((h) => categoryKey(h, heads))]);
  const ab: Record<string, AbTask> = {};
  const disagreements: Disagreement[] = [];
  for (const task of [...tasks].sort()) {
    // Agreement and disagreements over every event both models answered, labeled or not.
    const answered: Array<[{ value: unknown }, { value: unknown }]> = [];
    for (const event of events) {
      const a = taskOutputs(outputs[0].get(event.id), task, heads);
      const b = new Map(taskOutputs(outputs[1].get(event.id), task, heads).map((x) => [x.key, x]));
      for (const x of a) {
        const y = b.get(x.key);
        if (!y) continue;
        answered.push([x, y]);
        const size = disagreementSize(task, x, y);
        if (size > 0 || !sameOutput(task, x, y))
          disagreements.push({
            id: event.id,
            task,
            ...(x.question ? { question: x.question } : {}),
            text: event.text,
            size,
            a: x.value,
            b: y.value,
            gold: goldFor(event, task, x.question, heads),
          });
      }
    }
    const total = answered.length;
    if (total === 0) continue;
    // Delta, interval and McNemar over the labeled items both models were scored on (paired).
    const bKeys = new Map((itemsB.get(task) ?? []).map((i) => [i.key, i]));
    const pairs = (itemsA.get(task) ?? []).filter((i) => bKeys.has(i.key)).map((i) => [i, bKeys.get(i.key)!] as const);
    const metric = HEADLINE_METRIC[kindOf(task)];
    const labels = infos[0].labels[task] ?? [];
    const score = (idx: readonly number[], m: 'a' | 'b'): number => {
      const items = idx.map((i) => pairs[i][m === 'a' ? 0 : 1]);
      if (kindOf(task) === 'classification') return idx.length === 0 ? 0 : items.filter((i) => i.correct).length / items.length;
      return (metricsOf(task, items, labels) as { f1: number }).f1;
    };
    const interval = bootstrapDelta(pairs.length, score, options);
    const entry: AbTask = {
      metric,
      n: pairs.length,
      a: score(
        pairs.map((_, i) => i),
        'a',
      ),
      b: score(
        pairs.map((_, i) => i),
        'b',
      ),
      delta: interval.delta,
      ci95: interval.ci95,
      agreement: agreement(
        answered.map(([x]) => x),
        answered.map(([, y]) => y),
        (x, y) => sameOutput(task, x, y),
      ),
      agreement_n: total,
    };
    if (kindOf(task) !== 'entities' && pairs.length > 0)
      entry.mcnemar = mcnemar(
        pairs.map(([a]) => a.correct),
        pairs.map(([, b]) => b.correct),
      );
    ab[task] = entry;
  }
  disagreements.sort((x, y) => y.size - x.size || x.id.localeCompare(y.id));
  return { ab, disagreements: disagreements.slice(0, options.topDisagreements ?? 20) };
}
