/** Turns one model output into the result events of the tasks its input asked for. Pure. */
import type { TextEvent } from '../../schemas/generated/text';
import type { SentimentResult } from '../../schemas/generated/sentiment';
import type { EntitiesResult } from '../../schemas/generated/entities';
import type { AnswersResult } from '../../schemas/generated/answers';
import type { CategoriesResult } from '../../schemas/generated/categories';
import type { PredictOutput } from '../../model/types';
import type { TaskName } from '../../common/tasks';

export type ResultEvent =
  | { kind: 'sentiment'; event: SentimentResult }
  | { kind: 'entities'; event: EntitiesResult }
  | { kind: 'answers'; event: AnswersResult }
  | { kind: 'categories'; event: CategoriesResult };

export interface ModelIdentity {
  name: string;
  version: string;
}

export function resultEvents(
  input: TextEvent,
  tasks: readonly TaskName[],
  output: PredictOutput,
  model: ModelIdentity,
  includeText: boolean,
  processedAt = Date.now(),
): ResultEvent[] {
  const header = {
    id: input.id,
    key: input.key,
    tenant: input.tenant,
    modelName: model.name,
    modelVersion: model.version,
    createdAt: input.createdAt,
    processedAt,
  };
  const text = includeText ? input.text : null;
  const events: ResultEvent[] = [];
  for (const task of tasks) {
    switch (task) {
      case 'sentiment':
        events.push({ kind: 'sentiment', event: { ...header, label: output.sentiment!.label, scores: output.sentiment!.scores } });
        break;
      case 'entities':
        events.push({ kind: 'entities', event: { ...header, text, entities: output.entities! } });
        break;
      case 'answers':
        events.push({ kind: 'answers', event: { ...header, text, answers: output.answers! } });
        break;
      case 'categories':
        events.push({ kind: 'categories', event: { ...header, categories: output.categories! } });
        break;
    }
  }
  return events;
}
