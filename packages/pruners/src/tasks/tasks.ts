/**
 * The few-shot evaluation tasks of the calibration study. Each task builds
 * prompts from fixed demonstrations plus one test item (demonstrations
 * separated by blank lines, the whole string trimmed), extracts the answer
 * from a greedy generation and compares it with the label:
 *
 * | task                | shots | max new tokens | extraction → metric                                  |
 * |---------------------|-------|----------------|------------------------------------------------------|
 * | gsm8k, svamp, mawps | 3     | 256            | before the first blank line, after the last `####`; arithmetic equality |
 * | anli_r1..3, esnli   | 9     | 20 (CoT 256)   | first paragraph, exact label word (CoT: after "So the answer is ") |
 * | commonsense_qa, race| 3     | 20             | first line, letter, case-insensitive                 |
 * | winogrande          | 3     | 20             | first line, 1 or 2                                   |
 *
 * SVAMP and MAWPS use the GSM8K demonstrations, as the evaluation code of Bandari et al. (EMNLP 2024)
 * does (their own template existed but was unused there).
 *
 * Test items come from the datasets package's `evaluationItems` (see items.ts),
 * the same parser that builds calibration samples.
 */
import { InputError } from '@sculpt/core';
import { extractNumericAnswer, numericMatch } from './arithmetic.js';
import {
  ARITHMETIC_DEMOS,
  COMMONSENSE_DEMOS,
  NLI_DEMOS,
  RACE_DEMO_ARTICLE,
  RACE_DEMOS,
  WINOGRANDE_DEMOS,
  type NliLabel,
} from './demonstrations.js';
import { TASK_NAMES, type TaskName } from './names.js';
import { readEvaluationItems } from './items.js';

export interface TaskItem {
  id: string;
  /** The test prompt without demonstrations, e.g. `Question: …⏎Answer: `. */
  query: string;
  /** Expected answer string (a number or expression, a label word, a letter, 1/2). */
  label: string;
  /** Answer strings for log-likelihood scoring (classification tasks only). */
  choices?: string[];
}

export interface TaskVariant {
  /** Chain-of-thought demonstrations and extraction (gsm8k, anli, esnli). */
  cot: boolean;
}

export interface EvalTask {
  name: string;
  description: string;
  maxNewTokens: number;
  /**
   * Generation can stop at this text: extraction only reads what precedes it,
   * so stopping early never changes the answer and saves decoding time.
   */
  stopSequence: string;
  loadItems(dataDir: string): Promise<TaskItem[]>;
  buildPrompt(item: TaskItem): string;
  extractAnswer(generation: string): string;
  isCorrect(prediction: string, label: string): boolean;
}

const LETTERS = ['A', 'B', 'C', 'D', 'E'];
const NLI_WORDS: NliLabel[] = ['entailment', 'neutral', 'contradiction'];

function joinPrompt(demos: string[], query: string): string {
  return [...demos, query].join('\n\n').trim();
}

function firstLine(text: string): string {
  return text.trimStart().split('\n')[0].trim();
}

// ---------------------------------------------------------------- arithmetic

function arithmeticDemos(cot: boolean): string[] {
  return ARITHMETIC_DEMOS.map((demo) =>
    cot ? `Question: ${demo.question}\nAnswer: ${demo.rationale}\n#### ${demo.answer}` : `Question: ${demo.question}\nAnswer: ${demo.answer}`,
  );
}

function arithmeticTask(name: string, description: string, load: (dataDir: string) => Promise<TaskItem[]>, variant: TaskVariant): EvalTask {
  return {
    name,
    description,
    maxNewTokens: 256,
    stopSequence: '\n\n',
    loadItems: load,
    buildPrompt: (item) => joinPrompt(arithmeticDemos(variant.cot), item.query),
    extractAnswer: extractNumericAnswer,
    isCorrect: numericMatch,
  };
}

const loadGsm8k = (dataDir: string) => loadPlainItems('gsm8k', dataDir, ['gsm8k/test.jsonl', 'gsm8k/test.sample.jsonl']);

// SVAMP's label is the equation string, e.g. "( 10.0 - 7.0 )"; it is evaluated for the comparison.
const loadSvamp = (dataDir: string) => loadPlainItems('svamp', dataDir, ['svamp/test.json', 'svamp/SVAMP.json', 'svamp/SVAMP.sample.json']);

// Two layouts: MWPToolkit's (sQuestion, lEquations ["X=(…)"]) and Calc-mawps' (question, expression).
const loadMawps = (dataDir: string) => loadPlainItems('mawps', dataDir, ['mawps/test.jsonl', 'mawps/mawps_source.json', 'mawps/mawps_source.sample.json']);

/** Items of a generation-only task: the dataset's prompt and answer, no scoring choices. */
async function loadPlainItems(dataset: string, dataDir: string, candidates: readonly string[]): Promise<TaskItem[]> {
  return (await readEvaluationItems(dataset, dataDir, candidates)).map((item) => ({ id: item.id, query: item.prompt, label: item.answer }));
}

// ---------------------------------------------------------------- NLI

function nliDemos(cot: boolean, count: number): string[] {
  return NLI_DEMOS.slice(0, count).map((demo) => {
    const head = `Premise: ${demo.premise}\nHypothesis: ${demo.hypothesis}\nLabel: `;
    return cot ? `${head}${demo.explanation} So the answer is ${demo.label}.` : `${head}${demo.label}`;
  });
}

/** Label word from a generation: the first paragraph; with CoT, what follows "So the answer is " in its last sentence. */
export function extractNliAnswer(generation: string, cot: boolean): string {
  const paragraph = generation.trim().split('\n\n')[0].trim();
  if (!cot) return paragraph;
  const marker = paragraph.lastIndexOf('So the answer is ');
  if (marker < 0) return '';
  return paragraph.slice(marker + 'So the answer is '.length).trim().replace(/\.$/, '');
}

function nliTask(name: string, description: string, load: (dataDir: string) => Promise<TaskItem[]>, variant: TaskVariant, cotShots: number): EvalTask {
  return {
    name,
    description,
    maxNewTokens: variant.cot ? 256 : 20,
    stopSequence: '\n\n',
    loadItems: load,
    buildPrompt: (item) => joinPrompt(nliDemos(variant.cot, variant.cot ? cotShots : 9), item.query),
    extractAnswer: (generation) => extractNliAnswer(generation, variant.cot),
    isCorrect: (prediction, label) => prediction === label,
  };
}

/** NLI items score the three label words, each after a space as the model would write it. */
async function loadNliItems(dataset: string, dataDir: string, candidates: readonly string[]): Promise<TaskItem[]> {
  const items = await readEvaluationItems(dataset, dataDir, candidates);
  return items.map((item) => ({ id: item.id, query: item.prompt, label: item.answer, choices: NLI_WORDS.map((word) => ` ${word}`) }));
}

function anliLoader(round: 1 | 2 | 3): (dataDir: string) => Promise<TaskItem[]> {
  return (dataDir) =>
    loadNliItems(`anli_r${round}`, dataDir, [`anli/anli_v1.0/R${round}/test.jsonl`, `anli/anli_v1.0/R${round}/dev.jsonl`, `anli/anli_v1.0/R${round}/dev.sample.jsonl`]);
}

const loadEsnli = (dataDir: string) => loadNliItems('esnli', dataDir, ['esnli/esnli_test.jsonl', 'esnli/esnli_test.hf.sample.jsonl']);

// ---------------------------------------------------------------- multiple choice

function letterTask(name: string, description: string, load: (dataDir: string) => Promise<TaskItem[]>, demos: string[]): EvalTask {
  return {
    name,
    description,
    maxNewTokens: 20,
    stopSequence: '\n',
    loadItems: load,
    buildPrompt: (item) => joinPrompt(demos, item.query),
    extractAnswer: firstLine,
    isCorrect: (prediction, label) => prediction.toLowerCase() === label.toLowerCase(),
  };
}

function commonsenseQuery(question: string, choices: string[]): string {
  const lines = choices.map((text, i) => `${LETTERS[i]}. ${text}`).join('\n');
  return `Question: ${question}\nChoices:\n${lines}\nAnswer: `;
}

/** Letter items score the option letters A, B, … after a space, one per answer option of the item. */
async function loadLetterItems(dataset: string, dataDir: string, candidates: readonly string[]): Promise<TaskItem[]> {
  const items = await readEvaluationItems(dataset, dataDir, candidates);
  return items.map((item) => ({ id: item.id, query: item.prompt, label: item.answer, choices: (item.choices ?? []).map((_, i) => ` ${LETTERS[i]}`) }));
}

const loadCommonsenseQa = (dataDir: string) =>
  loadLetterItems('commonsense_qa', dataDir, ['commonsenseqa/hf_layout/validation.jsonl', 'commonsenseqa/hf_layout/dev_rand_split.hf.sample.jsonl']);

function raceQuery(article: string, question: string, options: string[]): string {
  // Every option line ends with a newline, which leaves a blank line before "Answer:".
  const lines = options.map((text, i) => `${LETTERS[i]}. ${text}\n`).join('');
  return `Article: ${article}\nQuestion: ${question}\nOptions:\n${lines}\nAnswer: `;
}

const loadRace = (dataDir: string) => loadLetterItems('race', dataDir, ['race/test.json', 'race/expmrc-race-dev.sample.json']);

function winograndeQuery(sentence: string, option1: string, option2: string): string {
  return `Sentence: ${sentence}\nOptions:\n1. ${option1}\n2. ${option2}\nAnswer: `;
}

async function loadWinogrande(dataDir: string): Promise<TaskItem[]> {
  const items = await readEvaluationItems('winogrande', dataDir, ['winogrande/winogrande_1.1/dev.jsonl', 'winogrande/winogrande_1.1/train_xl.jsonl']);
  return items.map((item) => ({ id: item.id, query: item.prompt, label: item.answer, choices: [' 1', ' 2'] }));
}

// ---------------------------------------------------------------- registry

export { TASK_NAMES, type TaskName } from './names.js';

/** Builds a task by name; `cot` applies to gsm8k, anli and esnli and is rejected elsewhere. */
export function createTask(name: TaskName, variant: TaskVariant = { cot: false }): EvalTask {
  const cotCapable = name === 'gsm8k' || name.startsWith('anli') || name === 'esnli';
  if (variant.cot && !cotCapable) throw new InputError(`task ${name} has no chain-of-thought form; only gsm8k, anli_r1..3 and esnli do`);

  switch (name) {
    case 'gsm8k':
      return arithmeticTask(name, 'GSM8K grade-school math, 3-shot, numeric match', loadGsm8k, variant);
    case 'svamp':
      return arithmeticTask(name, 'SVAMP math word problems, GSM8K 3-shot prompt, equation value match', loadSvamp, variant);
    case 'mawps':
      return arithmeticTask(name, 'MAWPS math word problems, GSM8K 3-shot prompt, expression value match', loadMawps, variant);
    case 'anli_r1':
      return nliTask(name, 'Adversarial NLI round 1, 9-shot, label word', anliLoader(1), variant, 9);
    case 'anli_r2':
      return nliTask(name, 'Adversarial NLI round 2, 9-shot, label word', anliLoader(2), variant, 9);
    case 'anli_r3':
      return nliTask(name, 'Adversarial NLI round 3, 9-shot, label word', anliLoader(3), variant, 9);
    case 'esnli':
      return nliTask(name, 'e-SNLI, 9-shot (CoT 3-shot), label word', loadEsnli, variant, 3);
    case 'commonsense_qa':
      return letterTask(name, 'CommonsenseQA, 3-shot, answer letter', loadCommonsenseQa, COMMONSENSE_DEMOS.map((demo) => commonsenseQuery(demo.question, demo.choices) + demo.answer));
    case 'race':
      return letterTask(name, 'RACE reading comprehension, 3-shot on one article, answer letter', loadRace, RACE_DEMOS.map((demo) => raceQuery(RACE_DEMO_ARTICLE, demo.question, demo.choices) + demo.answer));
    case 'winogrande':
      return letterTask(name, 'WinoGrande, 3-shot, option 1 or 2', loadWinogrande, WINOGRANDE_DEMOS.map((demo) => winograndeQuery(demo.sentence, demo.option1, demo.option2) + demo.answer));
  }
}

export function isTaskName(name: string): name is TaskName {
  return (TASK_NAMES as readonly string[]).includes(name);
}
