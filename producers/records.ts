/**
 * Turns input records (JSON lines, CSV rows, a CLI argument) into valid Trident events, or into a
 * rejection naming the line and the reason. Pure: no Kafka, no I/O.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { TextEvent } from '../schemas/generated/text';
import type { FeedbackEvent } from '../schemas/generated/feedback';
import { builtInTasks, isTaskName } from '../common/tasks';


export interface RecordLimits {
  maxTextBytes: number;
  maxQuestions: number;
  maxQuestionChars: number;
}

export interface RecordDefaults {
  tasks?: string[];
  questions?: string[];
  key?: string;
  tenant?: string;
}

export type RecordResult<T> = { ok: true; line: number; event: T } | { ok: false; line: number; code: RejectionCode; reason: string };

export const rejectionCodes = {
  MALFORMED_JSON: 'MALFORMED_JSON',
  INVALID_UTF8: 'INVALID_UTF8',
  TEXT_MISSING: 'TEXT_MISSING',
  TEXT_EMPTY: 'TEXT_EMPTY',
  TEXT_TOO_LARGE: 'TEXT_TOO_LARGE',
  UNKNOWN_TASK: 'UNKNOWN_TASK',
  INVALID_FIELD: 'INVALID_FIELD',
  QUESTIONS_INVALID: 'QUESTIONS_INVALID',
  MALFORMED_CSV: 'MALFORMED_CSV',
} as const;
export type RejectionCode = (typeof rejectionCodes)[keyof typeof rejectionCodes];

const textRecord = z
  .object({
    id: z.union([z.string().min(1).max(512), z.number()]).optional(),
    text: z.unknown().optional(),
    tasks: z.union([z.array(z.string()), z.string()]).nullable().optional(),
    questions: z.union([z.array(z.string()), z.string()]).optional(),
    question: z.string().optional(),
    key: z.string().nullable().optional(),
    tenant: z.string().nullable().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

function reject<T>(line: number, code: RejectionCode, reason: string): RecordResult<T> {
  return { ok: false, line, code, reason };
}

/** Parses a record with `schema`; the first problem becomes an INVALID_FIELD rejection naming the field. */
function parseFields<S extends z.ZodType>(schema: S, raw: unknown, line: number): { ok: true; data: z.infer<S> } | Extract<RecordResult<never>, { ok: false }> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, line, code: 'INVALID_FIELD', reason: `field "${issue.path.join('.')}": ${issue.message}` };
}

/** `"a,b"` or `["a","b"]` → `["a","b"]`. CSV cells use `|` between list items. */
function toList(value: string | string[] | null | undefined, separator: RegExp): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value;
  return value.split(separator).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Checks a text field; returns a rejection or null. */
export function checkText(text: unknown, line: number, limits: RecordLimits): RecordResult<never> | null {
  if (text === undefined || text === null) return reject(line, 'TEXT_MISSING', 'missing "text"');
  if (typeof text !== 'string') return reject(line, 'INVALID_FIELD', `"text" must be a string, got ${typeof text}`);
  if (text.trim().length === 0) return reject(line, 'TEXT_EMPTY', text.length === 0 ? '"text" is empty' : '"text" is only whitespace');
  if (!text.isWellFormed()) return reject(line, 'INVALID_UTF8', '"text" contains a lone surrogate (not valid Unicode, cannot be encoded as UTF-8)');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxTextBytes) return reject(line, 'TEXT_TOO_LARGE', `"text" is ${bytes} bytes, over the maximum of ${limits.maxTextBytes}`);
  return null;
}

/**
 * Validates one parsed record as a text event. `line` is 1-based, for messages.
 * Tasks must be built-in task names; `id` defaults to a random UUID.
 */
export function toTextEvent(raw: unknown, line: number, limits: RecordLimits, defaults: RecordDefaults = {}, now = Date.now()): RecordResult<TextEvent> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return reject(line, 'INVALID_FIELD', 'expected a JSON object with a "text" field');
  const parsed = parseFields(textRecord, raw, line);
  if (!parsed.ok) return parsed;
  const r = parsed.data;
  const textProblem = checkText(r.text, line, limits);
  if (textProblem) return textProblem;
  const tasks = toList(r.tasks, /[,|]/) ?? defaults.tasks;
  if (tasks) {
    const unknown = tasks.filter((t) => !isTaskName(t));
    if (unknown.length > 0) return reject(line, 'UNKNOWN_TASK', `unknown task ${unknown.map((t) => JSON.stringify(t)).join(', ')}; valid tasks: ${builtInTasks.join(', ')}`);
  }
  const questions = [...(toList(r.questions, /\|/) ?? []), ...(r.question ? [r.question] : [])];
  const allQuestions = questions.length > 0 ? questions : (defaults.questions ?? []);
  if (allQuestions.length > limits.maxQuestions) return reject(line, 'QUESTIONS_INVALID', `${allQuestions.length} questions, over the maximum of ${limits.maxQuestions}`);
  for (const q of allQuestions) {
    if (q.trim().length === 0) return reject(line, 'QUESTIONS_INVALID', 'a question is empty');
    if (q.length > limits.maxQuestionChars) return reject(line, 'QUESTIONS_INVALID', `a question is ${q.length} characters, over the maximum of ${limits.maxQuestionChars}`);
    if (!q.isWellFormed()) return reject(line, 'INVALID_UTF8', 'a question contains a lone surrogate');
  }
  return {
    ok: true,
    line,
    event: {
      id: r.id === undefined ? randomUUID() : String(r.id),
      text: r.text as string,
      tasks: tasks ?? null,
      questions: allQuestions,
      key: r.key ?? defaults.key ?? null,
      tenant: r.tenant ?? defaults.tenant ?? null,
      metadata: r.metadata ?? {},
      createdAt: now,
    },
  };
}

const feedbackRecord = z
  .object({
    id: z.union([z.string().min(1).max(512), z.number()]).optional(),
    text: z.unknown().optional(),
    task: z.enum(builtInTasks),
    head: z.string().nullable().optional(),
    label: z.string().nullable().optional(),
    entities: z.array(z.object({ label: z.string().min(1), start: z.number().int().min(0), end: z.number().int().min(0) })).optional(),
    answer: z.object({ question: z.string().min(1), start: z.number().int().min(0), end: z.number().int().min(0) }).nullable().optional(),
    source: z.string().min(1).optional(),
    modelVersion: z.string().nullable().optional(),
  })
  .passthrough();

/** Validates one parsed record as a labeled feedback event (the label must fit its task). */
export function toFeedbackEvent(raw: unknown, line: number, limits: RecordLimits, source = 'cli', now = Date.now()): RecordResult<FeedbackEvent> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return reject(line, 'INVALID_FIELD', 'expected a JSON object with "text" and "task"');
  const task = (raw as Record<string, unknown>).task;
  if (typeof task === 'string' && !isTaskName(task)) {
    return reject(line, 'UNKNOWN_TASK', `unknown task ${JSON.stringify(task)}; valid tasks: ${builtInTasks.join(', ')}`);
  }
  const parsed = parseFields(feedbackRecord, raw, line);
  if (!parsed.ok) return parsed;
  const r = parsed.data;
  const textProblem = checkText(r.text, line, limits);
  if (textProblem) return textProblem;
  const text = r.text as string;
  const spanOk = (s: { start: number; end: number }) => s.start < s.end && s.end <= text.length;
  if ((r.task === 'sentiment' || r.task === 'categories') && !r.label) return reject(line, 'INVALID_FIELD', `task ${r.task} needs a "label"`);
  if (r.task === 'categories' && !r.head) return reject(line, 'INVALID_FIELD', 'task categories needs a "head" (e.g. banking77)');
  if (r.task === 'entities') {
    const bad = (r.entities ?? []).find((s) => !spanOk(s));
    if (bad) return reject(line, 'INVALID_FIELD', `entity span ${bad.start}-${bad.end} is outside the text (length ${text.length}) or empty`);
  }
  if (r.task === 'answers') {
    if (!r.answer) return reject(line, 'INVALID_FIELD', 'task answers needs an "answer" {question, start, end}');
    if (!spanOk(r.answer)) return reject(line, 'INVALID_FIELD', `answer span ${r.answer.start}-${r.answer.end} is outside the text or empty`);
  }
  return {
    ok: true,
    line,
    event: {
      id: r.id === undefined ? randomUUID() : String(r.id),
      text,
      task: r.task,
      head: r.head ?? null,
      label: r.label ?? null,
      entities: r.entities ?? [],
      answer: r.answer ?? null,
      source: r.source ?? source,
      modelVersion: r.modelVersion ?? null,
      createdAt: now,
    },
  };
}
