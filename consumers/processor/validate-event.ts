/**
 * Checks a decoded text event before any inference. Pure. Every rule has a stable code; an invalid
 * event goes to the dead-letter topic with that code and the reason, never to the model.
 */
import type { TextEvent } from '../../schemas/generated/text';
import type { DeadLetterCode } from '../../common/error-codes';
import { builtInTasks, isTaskName, type TaskName } from '../../common/tasks';

export interface EventLimits {
  maxTextBytes: number;
  /** Longest text the model accepts, in UTF-16 code units. */
  maxTextChars: number;
  maxQuestions: number;
  maxQuestionChars: number;
  maxIdChars: number;
  maxMetadataBytes: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = {
  maxTextBytes: 1_000_000,
  maxTextChars: 100_000,
  maxQuestions: 16,
  maxQuestionChars: 1_000,
  maxIdChars: 256,
  maxMetadataBytes: 16_384,
};

export type EventCheck = { ok: true; tasks: TaskName[] } | { ok: false; code: DeadLetterCode; reason: string };

// C0 controls other than tab, newline and carriage return, DEL, and C1 controls.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const DAY_MS = 86_400_000;

/** Validates one event; `defaultTasks` apply when the event names none (tasks = null). */
export function checkEvent(event: TextEvent, defaultTasks: readonly TaskName[], limits: EventLimits = DEFAULT_EVENT_LIMITS, now = Date.now()): EventCheck {
  const fail = (code: DeadLetterCode, reason: string): EventCheck => ({ ok: false, code, reason });
  if (event.id.trim().length === 0) return fail('ID_EMPTY', 'id is empty');
  if (event.id.length > limits.maxIdChars) return fail('ID_TOO_LONG', `id has ${event.id.length} characters; the limit is ${limits.maxIdChars}`);

  const text = event.text;
  if (text.length === 0) return fail('TEXT_EMPTY', 'text is empty');
  if (text.trim().length === 0) return fail('TEXT_WHITESPACE', 'text is only whitespace');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxTextBytes) return fail('TEXT_TOO_LARGE', `text is ${bytes} bytes; the limit is ${limits.maxTextBytes}`);
  if (text.length > limits.maxTextChars) return fail('TEXT_TOO_LONG_FOR_MODEL', `text has ${text.length} characters; the model's limit is ${limits.maxTextChars}`);
  // Invalid UTF-8 in the Avro string decodes to U+FFFD; a lone surrogate cannot be encoded at all.
  if (text.includes('\ufffd') || !text.isWellFormed()) return fail('TEXT_INVALID_UTF8', 'text was not valid UTF-8 (it decodes with U+FFFD replacement characters or lone surrogates)');
  const control = CONTROL.exec(text);
  if (control) return fail('TEXT_CONTROL_CHARACTERS', `text contains control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at index ${control.index}`);

  const requested = event.tasks ?? defaultTasks;
  if (requested.length === 0) return fail('TASKS_EMPTY', `tasks is an empty list (omit it for the defaults: ${defaultTasks.join(', ')})`);
  const unknown = requested.filter((t) => !isTaskName(t));
  if (unknown.length > 0) return fail('TASK_UNKNOWN', `unknown task ${unknown.map((t) => JSON.stringify(t)).join(', ')}; valid: ${builtInTasks.join(', ')}`);
  const tasks = [...new Set(requested)] as TaskName[];

  const questions = event.questions;
  if (questions.length > limits.maxQuestions) return fail('QUESTIONS_TOO_MANY', `${questions.length} questions; the limit is ${limits.maxQuestions}`);
  for (const [i, q] of questions.entries()) {
    if (q.trim().length === 0) return fail('QUESTION_EMPTY', `question ${i} is empty`);
    if (q.length > limits.maxQuestionChars) return fail('QUESTION_TOO_LONG', `question ${i} has ${q.length} characters; the limit is ${limits.maxQuestionChars}`);
    if (q.includes('\ufffd') || !q.isWellFormed() || CONTROL.test(q)) return fail('QUESTION_INVALID_CHARACTERS', `question ${i} has invalid UTF-8 or control characters`);
  }
  if (event.tasks?.includes('answers') && questions.length === 0) return fail('ANSWERS_WITHOUT_QUESTIONS', 'the answers task was requested but the event has no questions');

  const metadataBytes = Buffer.byteLength(JSON.stringify(event.metadata), 'utf8');
  if (metadataBytes > limits.maxMetadataBytes) return fail('METADATA_TOO_LARGE', `metadata is ${metadataBytes} bytes; the limit is ${limits.maxMetadataBytes}`);
  if (!(event.createdAt > 0) || event.createdAt > now + DAY_MS) return fail('CREATED_AT_INVALID', `createdAt ${event.createdAt} is not a time between 1970 and tomorrow`);
  return { ok: true, tasks };
}

/** Total size of a message's headers (keys + values), for the HEADERS_TOO_LARGE rule. */
export function headerBytes(headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined): number {
  let total = 0;
  for (const [key, value] of Object.entries(headers ?? {})) {
    total += Buffer.byteLength(key);
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) total += typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  }
  return total;
}
