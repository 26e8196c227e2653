import { InvalidInputError } from '../common/errors';
import { builtInTasks, isTaskName, type TaskName } from '../common/tasks';
import type { PredictInput } from './types';

/** Limits on one input; over a limit is a typed error, never silent truncation. */
export interface InputLimits {
  /** Longest text, in UTF-16 code units (JavaScript `length`). Default 100 000 (≈ 25 k tokens, a few seconds on 2 cores). */
  maxChars: number;
  /** Most questions per input. Default 32. */
  maxQuestions: number;
  /** Longest question, in UTF-16 code units. Default 2 000 (it is cut to `max_question_tokens` anyway). */
  maxQuestionChars: number;
}

export const DEFAULT_LIMITS: InputLimits = { maxChars: 100_000, maxQuestions: 32, maxQuestionChars: 2_000 };

/** Returns the tasks as TaskName[], or throws InvalidInputError TASK_UNKNOWN naming `inputId` and the valid tasks. */
export function checkTasks(tasks: readonly string[], inputId: string): TaskName[] {
  if (tasks.length === 0) throw new InvalidInputError('INPUT_NO_TASKS', inputId, `no tasks requested (valid: ${builtInTasks.join(', ')})`);
  for (const task of tasks) {
    if (!isTaskName(task)) {
      throw new InvalidInputError('TASK_UNKNOWN', inputId, `unknown task ${JSON.stringify(task)} (valid: ${builtInTasks.join(', ')})`);
    }
  }
  return [...new Set(tasks)] as TaskName[];
}

/**
 * Checks one input before any work. Pure. Throws InvalidInputError naming the input id:
 * INPUT_BAD_ID, INPUT_EMPTY_TEXT (missing, empty or whitespace-only text — also when questions
 * come without a text), INPUT_TEXT_TOO_LONG, INPUT_BAD_QUESTIONS, TASK_UNKNOWN.
 */
export function validateInput(input: unknown, tasks: readonly string[], limits: InputLimits = DEFAULT_LIMITS): PredictInput {
  const candidate = (input ?? {}) as Partial<PredictInput>;
  const id = candidate.id;
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidInputError('INPUT_BAD_ID', String(id), 'id must be a non-empty string');
  }
  checkTasks(tasks, id);
  const { text, questions } = candidate;
  if (typeof text !== 'string' || text.trim().length === 0) {
    throw new InvalidInputError(
      'INPUT_EMPTY_TEXT',
      id,
      questions ? 'questions need a non-empty text to answer from' : 'text is missing or empty',
    );
  }
  if (text.length > limits.maxChars) {
    throw new InvalidInputError('INPUT_TEXT_TOO_LONG', id, `text has ${text.length} characters; the limit is ${limits.maxChars}`);
  }
  if (questions !== undefined) {
    if (!Array.isArray(questions) || questions.length > limits.maxQuestions) {
      throw new InvalidInputError('INPUT_BAD_QUESTIONS', id, `questions must be an array of at most ${limits.maxQuestions} strings`);
    }
    questions.forEach((q: unknown, i) => {
      if (typeof q !== 'string' || q.trim().length === 0 || q.length > limits.maxQuestionChars) {
        throw new InvalidInputError(
          'INPUT_BAD_QUESTIONS',
          id,
          `question ${i} must be a non-empty string of at most ${limits.maxQuestionChars} characters`,
        );
      }
    });
  }
  return { id, text, ...(questions ? { questions } : {}) };
}
