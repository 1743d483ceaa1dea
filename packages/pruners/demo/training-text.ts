/**
 * Turns the generated demo data into training documents: each downstream set
 * in the prompt format its evaluation task uses (so the model learns to
 * answer after "Answer:" or "Label:"), a few examples per document separated
 * by blank lines, interleaved with the stories.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Random } from '@sculpt/core';

const LABELS = ['entailment', 'neutral', 'contradiction'];

async function lines(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export async function trainingDocuments(dataDir: string, seed = 5): Promise<string[]> {
  const arithmetic: string[] = [];
  const entailment: string[] = [];
  const commonsense: string[] = [];
  const pronouns: string[] = [];
  for (const record of await lines(path.join(dataDir, 'gsm8k/train.jsonl'))) {
    const answer = String(record.answer);
    arithmetic.push(`Question: ${String(record.question)}\nAnswer: ${answer.slice(answer.lastIndexOf('####') + 4).trim()}`);
  }
  for (const record of await lines(path.join(dataDir, 'esnli/esnli_train.jsonl'))) {
    entailment.push(`Premise: ${String(record.premise)}\nHypothesis: ${String(record.hypothesis)}\nLabel: ${LABELS[Number(record.label)]}`);
  }
  for (const record of await lines(path.join(dataDir, 'commonsenseqa/hf_layout/train.jsonl'))) {
    const choices = (record.choices as { text: string[] }).text.map((text, i) => `${'ABCDE'[i]}. ${text}`).join('\n');
    commonsense.push(`Question: ${String(record.question)}\nChoices:\n${choices}\nAnswer: ${String(record.answerKey)}`);
  }
  for (const record of await lines(path.join(dataDir, 'winogrande/winogrande_1.1/train_xl.jsonl'))) {
    pronouns.push(`Sentence: ${String(record.sentence)}\nOptions:\n1. ${String(record.option1)}\n2. ${String(record.option2)}\nAnswer: ${String(record.answer)}`);
  }
  const stories = (await readFile(path.join(dataDir, 'tinystories/stories-train.txt'), 'utf8')).split('<|endoftext|>').map((text) => text.trim());

  // Documents of 3 examples of one kind, as the few-shot prompts look, plus single stories.
  const random = new Random(seed);
  const documents: string[] = [];
  for (const kind of [arithmetic, entailment, commonsense, pronouns]) {
    const shuffled = random.shuffle([...kind]);
    for (let i = 0; i + 3 <= shuffled.length; i += 3) documents.push(shuffled.slice(i, i + 3).join('\n\n'));
  }
  documents.push(...stories);
  return random.shuffle(documents);
}
