/**
 * Gold labels for evaluation, in the shape of `trident.feedback` events (schemas/avro/feedback.avsc):
 * one label per line or event, for one task of one text, joined to the text by `id`. Pure.
 *
 * A labeled JSON line:
 *   {"id": "t-1", "text": "…", "task": "sentiment", "label": "positive"}
 *   {"id": "t-1", "task": "categories", "head": "banking77", "label": "card_arrival"}
 *   {"id": "t-1", "task": "entities", "entities": [{"label": "PER", "start": 0, "end": 12}]}
 *   {"id": "t-1", "task": "answers", "answer": {"question": "Who?", "start": 0, "end": 12}}
 *   {"id": "t-1", "task": "answers", "answer": {"question": "Who?", "text": "Ada Lovelace"}}
 * `text` is needed by `trident eval` (it is what the model reads; every line of an id must carry the
 * same text, or only the first does) and optional for `trident replay`, which reads the text from
 * the topic. `questions` (optional) adds questions to ask without a gold answer. Offsets are UTF-16
 * code units into the text, end exclusive, as in feedback events.
 */
import { TridentError } from '../../common/errors';
import type { Span } from './metrics';

export type LabeledTask = 'sentiment' | 'entities' | 'answers' | 'categories';
const LABELED_TASKS: readonly LabeledTask[] = ['sentiment', 'entities', 'answers', 'categories'];

export type GoldAnswer = { question: string; start: number; end: number } | { question: string; text: string };

/** One gold label (a feedback event or a labeled line). */
export type GoldLabel =
  | { id: string; task: 'sentiment'; label: string }
  | { id: string; task: 'categories'; head: string | null; label: string }
  | { id: string; task: 'entities'; entities: Span[] }
  | { id: string; task: 'answers'; answer: GoldAnswer };

/** Everything known about one text's gold labels. The latest label of a task (or head) wins. */
export interface EventGold {
  sentiment?: string;
  /** Head name → label; the key `''` means "the model's only categories head". */
  categories?: Record<string, string>;
  entities?: Span[];
  /** Question → gold answers (several labels of one question are alternatives, as in SQuAD). */
  answers?: Record<string, GoldAnswer[]>;
}

/** A labeled line that cannot be used; `line` is 1-based. */
export class LabelError extends TridentError {
  constructor(
    readonly source: string,
    readonly line: number,
    reason: string,
  ) {
    super('LABEL_INVALID', `${source}:${line}: ${reason}`);
  }
}

const isInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;

/** Parses one labeled object (a JSON line or a decoded feedback event). Throws LabelError naming the line. */
export function parseLabel(raw: unknown, source: string, line: number): GoldLabel & { text?: string; questions?: string[] } {
  const fail = (reason: string): never => {
    throw new LabelError(source, line, reason);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('expected a JSON object');
  const r = raw as Record<string, unknown>;
  if (typeof r.id !== 'string' || r.id.length === 0) fail('"id" must be a non-empty string');
  const id = r.id as string;
  if (r.text !== undefined && r.text !== null && typeof r.text !== 'string') fail('"text" must be a string');
  const extra: { text?: string; questions?: string[] } = {};
  if (typeof r.text === 'string') extra.text = r.text;
  if (r.questions !== undefined) {
    if (!Array.isArray(r.questions) || r.questions.some((q) => typeof q !== 'string' || q.trim() === ''))
      fail('"questions" must be a list of non-empty strings');
    extra.questions = r.questions as string[];
  }
  const task = r.task;
  if (!LABELED_TASKS.includes(task as LabeledTask)) fail(`"task" must be one of ${LABELED_TASKS.join(', ')} (got ${JSON.stringify(task)})`);
  const span = (s: unknown, what: string): { start: number; end: number } => {
    const o = s as Record<string, unknown>;
    if (!isInt(o?.start) || !isInt(o?.end) || (o.end as number) <= (o.start as number))
      fail(`${what}: "start" and "end" must be integers with 0 <= start < end`);
    if (extra.text !== undefined && (o.end as number) > extra.text.length)
      fail(`${what}: end ${String(o.end)} is past the text's ${extra.text.length} characters`);
    return { start: o.start as number, end: o.end as number };
  };
  switch (task as LabeledTask) {
    case 'sentiment':
    case 'categories': {
      if (typeof r.label !== 'string' || r.label === '') fail(`${String(task)} needs a "label" string`);
      if (task === 'sentiment') return { id, task: 'sentiment', label: r.label as string, ...extra };
      if (r.head !== undefined && r.head !== null && typeof r.head !== 'string') fail('"head" must be a string');
      return { id, task: 'categories', head: (r.head as string | null | undefined) ?? null, label: r.label as string, ...extra };
    }
    case 'entities': {
      if (!Array.isArray(r.entities)) fail('entities needs an "entities" list of {label, start, end}');
      const entities = (r.entities as unknown[]).map((e, i) => {
        const label = (e as { label?: unknown })?.label;
        if (typeof label !== 'string' || label === '') fail(`entities[${i}]: "label" must be a non-empty string`);
        return { label: label as string, ...span(e, `entities[${i}]`) };
      });
      return { id, task: 'entities', entities, ...extra };
    }
    case 'answers': {
      const a = r.answer as Record<string, unknown> | null | undefined;
      if (!a || typeof a !== 'object') fail('answers needs an "answer": {question, start, end} or {question, text}');
      if (typeof a!.question !== 'string' || a!.question.trim() === '') fail('answer.question must be a non-empty string');
      const question = a!.question as string;
      if (typeof a!.text === 'string') {
        if (a!.text.trim() === '') fail('answer.text must not be empty');
        return { id, task: 'answers', answer: { question, text: a!.text }, ...extra };
      }
      return { id, task: 'answers', answer: { question, ...span(a, 'answer') }, ...extra };
    }
  }
  return fail('unreachable');
}

/** Adds one label to the per-event gold map (latest label of a task wins; answers accumulate). */
export function addLabel(golds: Map<string, EventGold>, label: GoldLabel): void {
  const gold = golds.get(label.id) ?? {};
  golds.set(label.id, gold);
  switch (label.task) {
    case 'sentiment':
      gold.sentiment = label.label;
      break;
    case 'categories':
      gold.categories = { ...gold.categories, [label.head ?? '']: label.label };
      break;
    case 'entities':
      gold.entities = label.entities;
      break;
    case 'answers': {
      const answers = (gold.answers ??= {});
      (answers[label.answer.question] ??= []).push(label.answer);
      break;
    }
  }
}

/** The gold answer strings of one question, cut from the text when given as spans. */
export function answerTexts(answers: readonly GoldAnswer[], text: string): string[] {
  return answers.map((a) => ('text' in a ? a.text : text.slice(a.start, a.end)));
}

/** A text to evaluate with its gold labels (from a labeled file). */
export interface LabeledText {
  id: string;
  text: string;
  questions: string[];
  gold: EventGold;
}

/**
 * Parses a labeled JSON-lines file's lines into texts (in order of first appearance) with their
 * gold labels. Blank lines are skipped. Throws LabelError naming the first bad line: `trident eval`
 * scores a file the user wrote, so a typo must not silently shrink the evaluation.
 */
export function parseLabeledLines(lines: readonly string[], source: string): LabeledText[] {
  const texts = new Map<string, LabeledText>();
  const golds = new Map<string, EventGold>();
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (cause) {
      throw new LabelError(source, i + 1, `not JSON: ${(cause as Error).message}`);
    }
    const label = parseLabel(raw, source, i + 1);
    let entry = texts.get(label.id);
    if (!entry) {
      if (label.text === undefined || label.text.trim() === '')
        throw new LabelError(source, i + 1, `the first line of id ${JSON.stringify(label.id)} needs its "text"`);
      entry = { id: label.id, text: label.text, questions: [], gold: {} };
      texts.set(label.id, entry);
    } else if (label.text !== undefined && label.text !== entry.text) {
      throw new LabelError(source, i + 1, `id ${JSON.stringify(label.id)} has a different text than on its first line`);
    }
    if (label.task === 'answers' && 'end' in label.answer && label.answer.end > entry.text.length) {
      throw new LabelError(source, i + 1, `answer: end ${label.answer.end} is past the text's ${entry.text.length} characters`);
    }
    for (const q of [...(label.questions ?? []), ...(label.task === 'answers' ? [label.answer.question] : [])])
      if (!entry.questions.includes(q)) entry.questions.push(q);
    const { text: _t, questions: _q, ...gold } = label;
    addLabel(golds, gold as GoldLabel);
  });
  return [...texts.values()].map((t) => ({ ...t, gold: golds.get(t.id) ?? {} }));
}
