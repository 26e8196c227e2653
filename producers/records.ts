/**
 * Turns input records (JSON lines, CSV rows, a CLI argument) into valid Trident events, or into a
 * rejection naming the line and the reason. The record's shape (field types) is checked here; the
 * event's content by the rules the processor applies (common/event-validation.ts), with their
 * codes. Pure: no Kafka, no I/O.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { checkText, checkTextEvent, textEventLimits, type TextEventCode, type TextEventLimits } from '../common/event-validation';
import { builtInTasks } from '../common/tasks';
import type { TextEvent } from '../schemas/generated/text';
import type { FeedbackEvent } from '../schemas/generated/feedback';

/** The configurable limits (`producer.*`); the others are the processor's defaults. */
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

/** Codes of a record's shape; its content gets the codes of common/event-validation.ts. */
export const recordCodes = {
  MALFORMED_JSON: 'MALFORMED_JSON',
  MALFORMED_CSV: 'MALFORMED_CSV',
  /** A line or CSV row that is not UTF-8 (a text field that is not gets TEXT_INVALID_UTF8). */
  INVALID_UTF8: 'INVALID_UTF8',
  TEXT_MISSING: 'TEXT_MISSING',
  INVALID_FIELD: 'INVALID_FIELD',
} as const;
export type RejectionCode = (typeof recordCodes)[keyof typeof recordCodes] | TextEventCode;

const textRecord = z
  .object({
    // Length and blankness are the event rules' (ID_EMPTY, ID_TOO_LONG), like everything about content.
    id: z.union([z.string(), z.number()]).optional(),
    text: z.unknown().optional(),
    tasks: z
      .union([z.array(z.string()), z.string()])
      .nullable()
      .optional(),
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
function parseFields<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  line: number,
): { ok: true; data: z.infer<S> } | Extract<RecordResult<never>, { ok: false }> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, line, code: 'INVALID_FIELD', reason: `field "${issue.path.join('.')}": ${issue.message}` };
}

/** `"a,b"` or `["a","b"]` → `["a","b"]`. CSV cells use `|` between list items. */
function toList(value: string | string[] | null | undefined, separator: RegExp): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value;
  return value
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The text field must be there and be a string; its content is checked by the event rules. */
function textField(text: unknown, line: number): Extract<RecordResult<never>, { ok: false }> | null {
  if (text === undefined || text === null) return { ok: false, line, code: 'TEXT_MISSING', reason: 'missing "text"' };
  if (typeof text !== 'string') return { ok: false, line, code: 'INVALID_FIELD', reason: `"text" must be a string, got ${typeof text}` };
  return null;
}

/** Full limits from the configurable ones (a caller may pass full limits already). */
function fullLimits(limits: RecordLimits | TextEventLimits): TextEventLimits {
  return 'maxTextChars' in limits ? limits : textEventLimits(limits);
}

/**
 * Validates one parsed record as a text event. `line` is 1-based, for messages. The event must
 * pass every rule the processor applies (so nothing sent is dead-lettered for its content); `id`
 * defaults to a random UUID.
 */
export function toTextEvent(
  raw: unknown,
  line: number,
  limits: RecordLimits | TextEventLimits,
  defaults: RecordDefaults = {},
  now = Date.now(),
): RecordResult<TextEvent> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return reject(line, 'INVALID_FIELD', 'expected a JSON object with a "text" field');
  const parsed = parseFields(textRecord, raw, line);
  if (!parsed.ok) return parsed;
  const r = parsed.data;
  const missing = textField(r.text, line);
  if (missing) return missing;
  const tasks = toList(r.tasks, /[,|]/) ?? defaults.tasks;
  const questions = [...(toList(r.questions, /\|/) ?? []), ...(r.question ? [r.question] : [])];
  const event: TextEvent = {
    id: r.id === undefined ? randomUUID() : String(r.id),
    text: r.text as string,
    tasks: tasks ?? null,
    questions: questions.length > 0 ? questions : (defaults.questions ?? []),
    key: r.key ?? defaults.key ?? null,
    tenant: r.tenant ?? defaults.tenant ?? null,
    metadata: r.metadata ?? {},
    createdAt: now,
  };
  const check = checkTextEvent(event, builtInTasks, fullLimits(limits), now);
  if (!check.ok) return reject(line, check.code, check.reason);
  return { ok: true, line, event };
}

const feedbackRecord = z
  .object({
    id: z.union([z.string().min(1).max(512), z.number()]).optional(),
    text: z.unknown().optional(),
    task: z.enum(builtInTasks),
    head: z.string().nullable().optional(),
    label: z.string().nullable().optional(),
    entities: z.array(z.object({ label: z.string().min(1), start: z.number().int().min(0), end: z.number().int().min(0) })).optional(),
    answer: z
      .object({ question: z.string().min(1), start: z.number().int().min(0), end: z.number().int().min(0) })
      .nullable()
      .optional(),
    source: z.string().min(1).optional(),
    modelVersion: z.string().nullable().optional(),
  })
  .passthrough();

/** Validates one parsed record as a labeled feedback event (the label must fit its task). */
export function toFeedbackEvent(
  raw: unknown,
  line: number,
  limits: RecordLimits | TextEventLimits,
  source = 'cli',
  now = Date.now(),
): RecordResult<FeedbackEvent> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return reject(line, 'INVALID_FIELD', 'expected a JSON object with "text" and "task"');
  const task = (raw as Record<string, unknown>).task;
  if (typeof task === 'string' && !(builtInTasks as readonly string[]).includes(task)) {
    return reject(line, 'TASK_UNKNOWN', `unknown task ${JSON.stringify(task)}; valid tasks: ${builtInTasks.join(', ')}`);
  }
  const parsed = parseFields(feedbackRecord, raw, line);
  if (!parsed.ok) return parsed;
  const r = parsed.data;
  const missing = textField(r.text, line);
  if (missing) return missing;
  const text = r.text as string;
  const textProblem = checkText(text, fullLimits(limits));
  if (textProblem) return reject(line, textProblem.code, textProblem.reason);
  const spanOk = (s: { start: number; end: number }) => s.start < s.end && s.end <= text.length;
  if ((r.task === 'sentiment' || r.task === 'categories') && !r.label)
    return reject(line, 'INVALID_FIELD', `task ${r.task} needs a "label"`);
  if (r.task === 'categories' && !r.head) return reject(line, 'INVALID_FIELD', 'task categories needs a "head" (e.g. banking77)');
  if (r.task === 'entities') {
    const bad = (r.entities ?? []).find((s) => !spanOk(s));
    if (bad)
      return reject(line, 'INVALID_FIELD', `entity span ${bad.start}-${bad.end} is outside the text (length ${text.length}) or empty`);
  }
  if (r.task === 'answers') {
    if (!r.answer) return reject(line, 'INVALID_FIELD', 'task answers needs an "answer" {question, start, end}');
    if (!spanOk(r.answer))
      return reject(line, 'INVALID_FIELD', `answer span ${r.answer.start}-${r.answer.end} is outside the text or empty`);
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
