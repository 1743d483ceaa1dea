/** Evaluation tasks as `eval-task` plugins; the only option selects the chain-of-thought form. */
import { definePlugin, type Plugin } from '@sculpt/core';
import { z } from 'zod';
import { createTask, type TaskName } from './tasks.js';

const DESCRIPTIONS: Record<TaskName, string> = {
  gsm8k: 'GSM8K grade-school math, 3-shot, numeric match',
  svamp: 'SVAMP math word problems, GSM8K 3-shot prompt, equation value match',
  mawps: 'MAWPS math word problems, GSM8K 3-shot prompt, expression value match',
  anli_r1: 'Adversarial NLI round 1, 9-shot, label word',
  anli_r2: 'Adversarial NLI round 2, 9-shot, label word',
  anli_r3: 'Adversarial NLI round 3, 9-shot, label word',
  esnli: 'e-SNLI, 9-shot (CoT 3-shot), label word',
  commonsense_qa: 'CommonsenseQA, 3-shot, answer letter',
  race: 'RACE reading comprehension, 3-shot, answer letter',
  winogrande: 'WinoGrande, 3-shot, option 1 or 2',
};

export function taskDescription(name: TaskName): string {
  return DESCRIPTIONS[name];
}

export function taskPlugin(name: TaskName): Plugin {
  return definePlugin({
    meta: {
      name,
      kind: 'eval-task',
      version: '1.0.0',
      description: DESCRIPTIONS[name],
      options: z.object({ cot: z.boolean().default(false) }).strict(),
    },
    create: (options) => createTask(name, options),
  }) as unknown as Plugin;
}
