/**
 * The plan of one run: validate the inputs, tokenise every text and question once, cut them into
 * encoder rows (windows), set up each task's decoder and group the rows into batches. No inference.
 */
import { TridentError } from '../common/errors';
import { modelErrorCodes } from '../common/error-codes';
import type { TaskName } from '../common/tasks';
import { makeBatches, rowCaseIds } from './batches';
import { createDecoders, PlannedText, RowJob, TaskDecoder } from './decoders';
import type { Head } from './heads';
import type { Manifest } from './manifest';
import { caseIdsOf, TextTokenizer } from './tokenize';
import type { PredictInput } from './types';
import { checkTasks, InputLimits, validateInput } from './validate';
import { questionRows, textRows } from './windows';

export interface BatchingOptions {
  batchSize: number;
  maxBatchTokens: number;
  padding: 'sorted' | 'arrival';
  batching: 'mixed' | 'per-input';
}

export interface RunPlan {
  texts: PlannedText[];
  /** Every encoder row of the run. */
  jobs: RowJob[];
  /** The rows grouped into encoder batches, in the order they are sent. */
  batches: RowJob[][];
  wanted: Set<TaskName>;
  /** One per wanted task, in the contract's order. */
  decoders: TaskDecoder[];
  /** The encoder's case input name, when the artifact has one. */
  casing: string | null;
  tokenizeMs: number;
}

/**
 * Plans a run. With `decoders`, those replace the wanted tasks' decoders (the learner's feature
 * decoder) and `tasks` only validate the inputs. Throws InvalidInputError naming the input (empty
 * text, too long, bad questions, unknown task), TridentError MODEL_TASK_UNAVAILABLE when the
 * artifact has no head for a task.
 */
export async function planRun(
  inputs: readonly PredictInput[],
  tasks: readonly string[],
  model: { manifest: Manifest; heads: ReadonlyMap<string, Head>; tokenizer: TextTokenizer; limits: InputLimits; batching: BatchingOptions },
  custom?: TaskDecoder[],
): Promise<RunPlan> {
  const { manifest: m, heads, tokenizer } = model;
  const wanted = new Set(checkTasks(tasks, String(inputs[0]?.id)));
  const checked = inputs.map((input) => validateInput(input, tasks, model.limits));
  const available = new Set([...heads.values()].map((h) => h.spec.task));
  for (const task of custom ? [] : wanted) {
    if (!available.has(task))
      throw new TridentError(modelErrorCodes.MODEL_TASK_UNAVAILABLE, `artifact ${m.name}-${m.version} has no ${task} head`);
  }
  const casing = m.casing ? m.casing.input : null;
  const decoders = custom ?? createDecoders(wanted, heads, m.encoder.hidden_size);
  const answers = decoders.find((d) => d.maxQuestionTokens !== undefined) ?? null;
  // Sentiment, entities and categories share one encoder pass per text window.
  const needTextRows = decoders.some((d) => d.readsTextRows !== false);

  // 1. Tokenise every text and question once.
  const tokenizeStarted = performance.now();
  const tokenized = await tokenizer.tokenizeBatch(checked.map((i) => i.text));
  const questionTokens = await tokenizer.tokenizeBatch(answers ? checked.flatMap((i) => i.questions ?? []) : []);
  const tokenizeMs = performance.now() - tokenizeStarted;

  // 2. Windows → rows; each decoder prepares what it gathers per text.
  const jobs: RowJob[] = [];
  let q = 0;
  const texts = checked.map((input, index): PlannedText => {
    const tokens = tokenized[index];
    const caseIds = casing ? caseIdsOf(tokens) : null;
    const text: PlannedText = { index, input, tokens, questions: [] };
    const rows = needTextRows ? textRows(tokens.ids, m.max_length, m.stride, tokenizer.specials) : [];
    rows.forEach((row, window) => jobs.push({ row, caseIds: caseIds ? rowCaseIds(row, caseIds, null) : null, text, question: -1, window }));
    if (answers) {
      const maxQ = answers.maxQuestionTokens!;
      for (const question of input.questions ?? []) {
        const qt = questionTokens[q++];
        const qCase = casing ? caseIdsOf(qt) : null;
        const qRows = questionRows(qt.ids, tokens.ids, m.max_length, m.stride, maxQ, tokenizer.specials);
        const qi = text.questions.length;
        text.questions.push({ question, rows: qRows.length });
        qRows.forEach((row, window) =>
          jobs.push({
            row,
            caseIds: caseIds ? rowCaseIds(row, caseIds, qCase, Math.min(qt.ids.length, maxQ)) : null,
            text,
            question: qi,
            window,
          }),
        );
      }
    }
    for (const decoder of decoders) decoder.begin(text, rows);
    return text;
  });

  // 3. Batches: with per-input batching, a batch holds one input's text rows or its question rows.
  const { batchSize, maxBatchTokens, padding, batching } = model.batching;
  const group = batching === 'per-input' ? (job: RowJob) => 2 * job.text.index + (job.question < 0 ? 0 : 1) : undefined;
  const batches = makeBatches(jobs, batchSize, maxBatchTokens, padding, group);
  return { texts, jobs, batches, wanted, decoders, casing, tokenizeMs };
}
