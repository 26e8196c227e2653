/**
 * The rules a text event must pass, in one place: `trident produce` and the producer library refuse
 * what breaks them, the gateway refuses it up front, and the processor dead-letters it — always
 * with the same code. Pure: no Kafka, no I/O.
 *
 * The codes are a wire contract (they name dead letters on the DLQ topic and metrics labels):
 * never rename one.
 */
import type { TextEvent } from '../schemas/generated/text';
import { builtInTasks, type TaskName } from './tasks';

/** Every rule's code, in the order the rules run. */
export const textEventCodes = {
  ID_EMPTY: 'ID_EMPTY',
  ID_TOO_LONG: 'ID_TOO_LONG',
  TEXT_EMPTY: 'TEXT_EMPTY',
  TEXT_WHITESPACE: 'TEXT_WHITESPACE',
  TEXT_TOO_LARGE: 'TEXT_TOO_LARGE',
  TEXT_TOO_LONG_FOR_MODEL: 'TEXT_TOO_LONG_FOR_MODEL',
  TEXT_INVALID_UTF8: 'TEXT_INVALID_UTF8',
  TEXT_CONTROL_CHARACTERS: 'TEXT_CONTROL_CHARACTERS',
  TASKS_EMPTY: 'TASKS_EMPTY',
  TASK_UNKNOWN: 'TASK_UNKNOWN',
  QUESTIONS_TOO_MANY: 'QUESTIONS_TOO_MANY',
  QUESTION_EMPTY: 'QUESTION_EMPTY',
  QUESTION_TOO_LONG: 'QUESTION_TOO_LONG',
  QUESTION_INVALID_CHARACTERS: 'QUESTION_INVALID_CHARACTERS',
  ANSWERS_WITHOUT_QUESTIONS: 'ANSWERS_WITHOUT_QUESTIONS',
  METADATA_TOO_LARGE: 'METADATA_TOO_LARGE',
  CREATED_AT_INVALID: 'CREATED_AT_INVALID',
} as const;
export type TextEventCode = (typeof textEventCodes)[keyof typeof textEventCodes];

// Every code the processor dead-letters an input with lives in one table: common/error-codes.ts.
export { deadLetterCodes, type DeadLetterCode } from './error-codes';

export interface TextEventLimits {
  maxTextBytes: number;
  /** Longest text the model accepts, in UTF-16 code units. */
  maxTextChars: number;
  maxQuestions: number;
  maxQuestionChars: number;
  maxIdChars: number;
  maxMetadataBytes: number;
}

export const DEFAULT_TEXT_EVENT_LIMITS: TextEventLimits = {
  maxTextBytes: 1_000_000,
  maxTextChars: 100_000,
  maxQuestions: 16,
  maxQuestionChars: 1_000,
  maxIdChars: 256,
  maxMetadataBytes: 16_384,
};

/** The limits from config (`producer.*`), the model's text limit when known. */
export function textEventLimits(
  producer: { maxTextBytes: number; maxQuestions: number; maxQuestionChars: number },
  maxTextChars?: number,
): TextEventLimits {
  return {
    ...DEFAULT_TEXT_EVENT_LIMITS,
    maxTextBytes: producer.maxTextBytes,
    maxQuestions: producer.maxQuestions,
    maxQuestionChars: producer.maxQuestionChars,
    maxTextChars: maxTextChars ?? DEFAULT_TEXT_EVENT_LIMITS.maxTextChars,
  };
}

export type Violation = { code: TextEventCode; reason: string };
export type EventCheck = { ok: true; tasks: TaskName[] } | ({ ok: false } & Violation);

// C0 controls other than tab, newline and carriage return, DEL, and C1 controls.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const DAY_MS = 86_400_000;

/** The rules on a text alone (also used for labeled feedback). Null when it passes. */
export function checkText(text: string, limits: TextEventLimits): Violation | null {
  const v = (code: TextEventCode, reason: string): Violation => ({ code, reason });
  if (text.length === 0) return v('TEXT_EMPTY', 'text is empty');
  if (text.trim().length === 0) return v('TEXT_WHITESPACE', 'text is only whitespace');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxTextBytes) return v('TEXT_TOO_LARGE', `text is ${bytes} bytes; the limit is ${limits.maxTextBytes}`);
  if (text.length > limits.maxTextChars)
    return v('TEXT_TOO_LONG_FOR_MODEL', `text has ${text.length} characters; the model's limit is ${limits.maxTextChars}`);
  // Invalid UTF-8 in the Avro string decodes to U+FFFD; a lone surrogate cannot be encoded at all.
  if (text.includes('\ufffd') || !text.isWellFormed())
    return v('TEXT_INVALID_UTF8', 'text is not valid UTF-8 (it holds U+FFFD replacement characters or lone surrogates)');
  const control = CONTROL.exec(text);
  if (control)
    return v(
      'TEXT_CONTROL_CHARACTERS',
      `text contains control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at index ${control.index}`,
    );
  return null;
}

/** Validates one event; `defaultTasks` apply when the event names none (tasks = null). */
export function checkTextEvent(
  event: TextEvent,
  defaultTasks: readonly TaskName[],
  limits: TextEventLimits = DEFAULT_TEXT_EVENT_LIMITS,
  now = Date.now(),
): EventCheck {
  const fail = (code: TextEventCode, reason: string): EventCheck => ({ ok: false, code, reason });
  if (event.id.trim().length === 0) return fail('ID_EMPTY', 'id is empty');
  if (event.id.length > limits.maxIdChars)
    return fail('ID_TOO_LONG', `id has ${event.id.length} characters; the limit is ${limits.maxIdChars}`);

  const textProblem = checkText(event.text, limits);
  if (textProblem) return { ok: false, ...textProblem };

  const requested = event.tasks ?? defaultTasks;
  if (requested.length === 0) return fail('TASKS_EMPTY', `tasks is an empty list (omit it for the defaults: ${defaultTasks.join(', ')})`);
  const unknown = requested.filter((t) => !(builtInTasks as readonly string[]).includes(t));
  if (unknown.length > 0)
    return fail('TASK_UNKNOWN', `unknown task ${unknown.map((t) => JSON.stringify(t)).join(', ')}; valid: ${builtInTasks.join(', ')}`);
  const tasks = [...new Set(requested)] as TaskName[];

  const questions = event.questions;
  if (questions.length > limits.maxQuestions)
    return fail('QUESTIONS_TOO_MANY', `${questions.length} questions; the limit is ${limits.maxQuestions}`);
  for (const [i, q] of questions.entries()) {
    if (q.trim().length === 0) return fail('QUESTION_EMPTY', `question ${i} is empty`);
    if (q.length > limits.maxQuestionChars)
      return fail('QUESTION_TOO_LONG', `question ${i} has ${q.length} characters; the limit is ${limits.maxQuestionChars}`);
    if (q.includes('\ufffd') || !q.isWellFormed() || CONTROL.test(q))
      return fail('QUESTION_INVALID_CHARACTERS', `question ${i} has invalid UTF-8 or control characters`);
  }
  if (event.tasks?.includes('answers') && questions.length === 0)
    return fail('ANSWERS_WITHOUT_QUESTIONS', 'the answers task was requested but the event has no questions');

  const metadataBytes = Buffer.byteLength(JSON.stringify(event.metadata), 'utf8');
  if (metadataBytes > limits.maxMetadataBytes)
    return fail('METADATA_TOO_LARGE', `metadata is ${metadataBytes} bytes; the limit is ${limits.maxMetadataBytes}`);
  if (!(event.createdAt > 0) || event.createdAt > now + DAY_MS)
    return fail('CREATED_AT_INVALID', `createdAt ${event.createdAt} is not a time between 1970 and tomorrow`);
  return { ok: true, tasks };
}
