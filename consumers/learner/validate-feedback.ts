/**
 * The rules a feedback event must pass before it becomes a training example, checked against the
 * production model it would retrain: its heads and their labels, and its tokenizer's token
 * boundaries. Pure: the caller tokenises (entities events only) and hands the offsets in.
 *
 * Fixed heads (sentiment, entities, answers) keep their label sets; a `categories` label outside its
 * head's labels grows the head, and a categories head name the model does not have creates a head.
 */
import { createHash } from 'node:crypto';
import { deadLetterCodes, type DeadLetterCode } from '../../common/error-codes';
import { checkText, DEFAULT_TEXT_EVENT_LIMITS, type TextEventLimits } from '../../common/event-validation';
import { builtInTasks, type TaskName } from '../../common/tasks';
import type { Manifest } from '../../model/manifest';
import type { Example } from '../../model/learn/types';
import type { FeedbackEvent } from '../../schemas/generated/feedback';

/** What validation needs of the production model. */
export interface FeedbackModel {
  version: string;
  /** Labels of the sentiment head; null when the model has none. */
  sentiment: readonly string[] | null;
  /** Entity types (the BIO tags without B-/I-, `O` left out); null when the model has no entities head. */
  entityTypes: readonly string[] | null;
  answers: boolean;
  /** Categories heads and their labels (informational: new labels and heads are accepted). */
  categories: Record<string, readonly string[]>;
}

export function feedbackModelOf(manifest: Pick<Manifest, 'version' | 'heads'>): FeedbackModel {
  const model: FeedbackModel = { version: manifest.version, sentiment: null, entityTypes: null, answers: false, categories: {} };
  for (const [name, head] of Object.entries(manifest.heads)) {
    if (head.task === 'sentiment') model.sentiment = head.labels;
    else if (head.task === 'entities')
      model.entityTypes = [...new Set(head.labels.filter((l) => l !== 'O').map((l) => l.replace(/^[BIES]-/, '')))];
    else if (head.task === 'answers') model.answers = true;
    else model.categories[name] = head.labels;
  }
  return model;
}

/** An accepted example before the dataset gives it its split and log position. */
export type ValidExample = Omit<Example, 'split' | 'position'>;
export type FeedbackCheck = { ok: true; example: ValidExample } | { ok: false; code: DeadLetterCode; reason: string };

/** The fixed heads are keyed by their task (model/manifest.ts); no categories head may take those names. */
const FIXED_HEADS: readonly string[] = ['sentiment', 'entities', 'answers'];

/** Example.key: sha256 of task, head, text and (answers) the question. */
export function exampleKey(task: TaskName, head: string, text: string, question?: string): string {
  return createHash('sha256')
    .update(JSON.stringify(question === undefined ? [task, head, text] : [task, head, text, question]))
    .digest('hex');
}

/**
 * Validates one decoded feedback event. `tokenOffsets`: flat `[start, end, …]` UTF-16 offsets of
 * the text's tokens (TextTokenizer), needed for entities events only (null: not checked).
 */
export function checkFeedback(
  event: FeedbackEvent,
  model: FeedbackModel,
  tokenOffsets: Int32Array | null,
  limits: TextEventLimits = DEFAULT_TEXT_EVENT_LIMITS,
): FeedbackCheck {
  const fail = (code: DeadLetterCode, reason: string): FeedbackCheck => ({ ok: false, code, reason });
  if (event.id.trim().length === 0) return fail(deadLetterCodes.ID_EMPTY, 'id is empty');
  const textProblem = checkText(event.text, limits);
  if (textProblem) return fail(textProblem.code, textProblem.reason);
  if (!(builtInTasks as readonly string[]).includes(event.task))
    return fail(deadLetterCodes.TASK_UNKNOWN, `unknown task ${JSON.stringify(event.task)}; valid: ${builtInTasks.join(', ')}`);
  const task = event.task as TaskName;
  const base = { id: event.id, text: event.text, task, source: event.source, createdAt: event.createdAt };
  const text = event.text;

  if (task === 'categories') {
    const head = event.head?.trim();
    if (!head) return fail(deadLetterCodes.HEAD_MISSING, 'a categories label needs its head (e.g. banking77)');
    if (FIXED_HEADS.includes(head))
      return fail(deadLetterCodes.HEAD_UNKNOWN, `head ${JSON.stringify(head)} is the ${head} task's head, not a categories head`);
    const label = event.label?.trim();
    if (!label) return fail(deadLetterCodes.LABEL_MISSING, `categories head ${head} needs a label`);
    return { ok: true, example: { ...base, key: exampleKey(task, head, text), head, label } };
  }

  const head = event.head ?? task;
  if (head !== task)
    return fail(deadLetterCodes.HEAD_UNKNOWN, `task ${task} has one head, ${JSON.stringify(task)}; got ${JSON.stringify(head)}`);

  if (task === 'sentiment') {
    if (!model.sentiment) return fail(deadLetterCodes.HEAD_UNKNOWN, `the production model ${model.version} has no sentiment head`);
    if (!event.label) return fail(deadLetterCodes.LABEL_MISSING, 'sentiment feedback needs a label');
    if (!model.sentiment.includes(event.label))
      return fail(
        deadLetterCodes.LABEL_UNKNOWN,
        `sentiment label ${JSON.stringify(event.label)} is not one of ${model.sentiment.join(', ')}`,
      );
    return { ok: true, example: { ...base, key: exampleKey(task, head, text), head, label: event.label } };
  }

  if (task === 'entities') {
    if (!model.entityTypes) return fail(deadLetterCodes.HEAD_UNKNOWN, `the production model ${model.version} has no entities head`);
    const spans = [...event.entities].sort((a, b) => a.start - b.start || a.end - b.end);
    for (const span of spans) {
      const where = `entity ${JSON.stringify(span.label)} ${span.start}-${span.end}`;
      if (!(span.start >= 0 && span.start < span.end && span.end <= text.length))
        return fail(deadLetterCodes.ENTITY_SPAN_OUT_OF_RANGE, `${where} is empty or outside the text (length ${text.length})`);
      if (!model.entityTypes.includes(span.label))
        return fail(deadLetterCodes.LABEL_UNKNOWN, `${where}: the entities head knows ${model.entityTypes.join(', ')}`);
    }
    for (let i = 1; i < spans.length; i++) {
      const [a, b] = [spans[i - 1]!, spans[i]!];
      if (b.start < a.end)
        return fail(deadLetterCodes.ENTITY_SPAN_OVERLAP, `entity ${a.label} ${a.start}-${a.end} overlaps ${b.label} ${b.start}-${b.end}`);
    }
    if (tokenOffsets) {
      const starts = new Set<number>();
      const ends = new Set<number>();
      for (let t = 0; t < tokenOffsets.length; t += 2) {
        starts.add(tokenOffsets[t]!);
        ends.add(tokenOffsets[t + 1]!);
      }
      for (const span of spans) {
        if (!starts.has(span.start) || !ends.has(span.end))
          return fail(
            deadLetterCodes.ENTITY_SPAN_NOT_ON_TOKEN_BOUNDARY,
            `entity ${span.label} ${span.start}-${span.end} (${JSON.stringify(text.slice(span.start, span.end))}) does not ${starts.has(span.start) ? 'end at a token end' : 'start at a token start'} of the model's tokenizer`,
          );
      }
    }
    return {
      ok: true,
      example: {
        ...base,
        key: exampleKey(task, head, text),
        head,
        entities: spans.map(({ label, start, end }) => ({ label, start, end })),
      },
    };
  }

  // answers
  if (!model.answers) return fail(deadLetterCodes.HEAD_UNKNOWN, `the production model ${model.version} has no answers head`);
  const answer = event.answer;
  if (!answer) return fail(deadLetterCodes.LABEL_MISSING, 'answers feedback needs an answer {question, start, end}');
  if (answer.question.trim().length === 0) return fail(deadLetterCodes.QUESTION_EMPTY, 'the answer’s question is empty');
  if (!(answer.start >= 0 && answer.end <= text.length && answer.start <= answer.end))
    return fail(
      deadLetterCodes.ANSWER_SPAN_OUT_OF_RANGE,
      `answer span ${answer.start}-${answer.end} is outside the text (length ${text.length})`,
    );
  if (text.slice(answer.start, answer.end).trim().length === 0)
    return fail(deadLetterCodes.ANSWER_SPAN_EMPTY, `answer span ${answer.start}-${answer.end} is empty or only whitespace`);
  return {
    ok: true,
    example: {
      ...base,
      key: exampleKey(task, head, text, answer.question),
      head,
      answer: { question: answer.question, start: answer.start, end: answer.end },
    },
  };
}
