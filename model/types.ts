import type { TaskName } from '../common/tasks';

/** One input: its id travels to the output unchanged; `questions` only matter for `answers`. */
export interface PredictInput {
  id: string;
  text: string;
  questions?: string[];
}

/** `label` is the argmax; `scores` holds every label's probability (windows combined by the head's `window_aggregation`). */
export interface SentimentResult {
  label: string;
  scores: Record<string, number>;
}

/** `text === input.text.slice(start, end)`; offsets are UTF-16 code units (JavaScript indices). */
export interface EntityResult {
  label: string;
  text: string;
  start: number;
  end: number;
  score: number;
}

/** One per question, in order. `answer`, `start` and `end` are null when the best score is under the manifest's `no_answer_threshold`. */
export interface AnswerResult {
  question: string;
  answer: string | null;
  start: number | null;
  end: number | null;
  score: number;
}

export interface CategoryResult {
  label: string;
  score: number;
}

/** The predict-output shape (model/README.md), also carried by result events. Only requested tasks are present. */
export interface PredictOutput {
  id: string;
  sentiment?: SentimentResult;
  entities?: EntityResult[];
  answers?: AnswerResult[];
  /** Per categories head (keyed by head name): top-k labels, best first. */
  categories?: Record<string, CategoryResult[]>;
}

export type { TaskName };
