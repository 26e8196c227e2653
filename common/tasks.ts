/** The built-in tasks: the vocabulary every stage shares (records, the processor, the gateway). */
export const builtInTasks = ['sentiment', 'entities', 'answers', 'categories'] as const;
export type TaskName = (typeof builtInTasks)[number];
