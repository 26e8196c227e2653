/**
 * Runs the model over a micro-batch: one `Pipeline.run` for all its events (the union of their
 * tasks; an event's questions are only sent when it asked for answers), then keeps each event's own
 * tasks. When the batch fails, it is split in halves until the events that fail alone are found;
 * only those come back as failures. At most `maxInFlight` runs at once (the encoder's queue is the
 * bottleneck; more would only queue there).
 */
import type { PredictInput, PredictOutput } from '../../model/types';
import type { TaskName } from '../../common/tasks';
import { deadLetterCodes } from '../../common/error-codes';
import { ModelArtifactError, TridentError, isRetriable } from '../../common/errors';
import { inferenceSeconds } from './metrics';
import { isModelUnavailable } from './model-availability';
import type { ModelIdentity } from './results';

export interface InferenceItem {
  id: string;
  text: string;
  questions: string[];
  tasks: TaskName[];
}

/** `model`: the version that computed the output (results carry it as modelVersion). */
export type InferenceOutcome = { ok: true; output: PredictOutput; model: ModelIdentity } | { ok: false; code: string; reason: string };

export type RunModel = (inputs: PredictInput[], tasks: TaskName[]) => Promise<PredictOutput[]>;

/** The model one micro-batch runs on, held until `release()` (a swapped-out model closes after its last lease). */
export interface ModelLease {
  identity: ModelIdentity;
  run: RunModel;
  release(): void;
}

/** Hands out the model for the next micro-batch; asked once per batch, so a swap lands between batches. */
export type AcquireModel = () => ModelLease;

/** An AcquireModel that always hands out the same model. */
export function fixedModel(run: RunModel, identity: ModelIdentity): AcquireModel {
  return () => ({ identity, run, release: () => undefined });
}

export class InferenceStep {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly acquireModel: AcquireModel,
    private readonly maxInFlight: number,
  ) {}

  /** Resolves with one outcome per item, in order. Throws only retriable errors (encoder busy) and model-unavailable ones (worker gone, closed). */
  async infer(items: readonly InferenceItem[]): Promise<InferenceOutcome[]> {
    await this.acquire();
    const started = performance.now();
    // One model for the whole batch, its splits included: no batch mixes versions.
    const model = this.acquireModel();
    try {
      return await this.inferOrSplit(items, model);
    } finally {
      model.release();
      inferenceSeconds.observe((performance.now() - started) / 1000);
      this.release();
    }
  }

  private async inferOrSplit(items: readonly InferenceItem[], model: ModelLease): Promise<InferenceOutcome[]> {
    try {
      const tasks = [...new Set(items.flatMap((i) => i.tasks))];
      const inputs = items.map((i) => ({ id: i.id, text: i.text, ...(i.tasks.includes('answers') ? { questions: i.questions } : {}) }));
      const outputs = await model.run(inputs, tasks);
      return outputs.map((output, i) => ({ ok: true, output: pick(output, items[i]!.tasks), model: model.identity }));
    } catch (error) {
      // Busy, restarting or closed is the model's state, never these events' fault: no dead letters.
      if (isRetriable(error) || isModelUnavailable(error)) throw error;
      if (items.length === 1) {
        // A broken artifact is not the event's fault, but it is what failed on it; say so generically.
        const code =
          error instanceof TridentError && !(error instanceof ModelArtifactError) ? error.code : deadLetterCodes.INFERENCE_FAILED;
        return [{ ok: false, code, reason: (error as Error).message }];
      }
      const middle = Math.ceil(items.length / 2);
      return [...(await this.inferOrSplit(items.slice(0, middle), model)), ...(await this.inferOrSplit(items.slice(middle), model))];
    }
  }

  private async acquire(): Promise<void> {
    if (this.running < this.maxInFlight) {
      this.running += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }
}

function pick(output: PredictOutput, tasks: readonly TaskName[]): PredictOutput {
  const picked: PredictOutput = { id: output.id };
  for (const task of tasks) (picked as unknown as Record<string, unknown>)[task] = output[task];
  return picked;
}
