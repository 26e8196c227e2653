/**
 * The tasks Trident serves. Task names are part of the contract (the `tasks` field of text events,
 * the per-task result topics, the manifest's heads), so every stage takes them from here.
 */
export const builtInTasks = ['sentiment', 'entities', 'answers', 'categories'] as const;
export type TaskName = (typeof builtInTasks)[number];

/** Whether `value` names a built-in task. */
export function isTaskName(value: string): value is TaskName {
  return (builtInTasks as readonly string[]).includes(value);
}
