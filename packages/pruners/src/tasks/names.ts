/** Names of the built-in evaluation tasks, kept apart so the plugin manifest imports no task code. */
export const TASK_NAMES = ['gsm8k', 'svamp', 'mawps', 'anli_r1', 'anli_r2', 'anli_r3', 'esnli', 'commonsense_qa', 'race', 'winogrande'] as const;
export type TaskName = (typeof TASK_NAMES)[number];
