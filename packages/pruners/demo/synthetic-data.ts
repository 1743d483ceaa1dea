/**
 * Generates the demo's data: small, seeded, written by sculpt itself (no
 * third-party text), in the file layouts the dataset plugins and evaluation
 * tasks read. Arithmetic word problems (GSM8K layout), entailment pairs
 * (e-SNLI layout), five-way commonsense questions (CommonsenseQA layout),
 * two-option pronoun sentences (WinoGrande layout), and short stories as the
 * pre-training corpus (TinyStories and WikiText-2 layouts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Random } from '@sculpt/core';

const NAMES = ['Ana', 'Ben', 'Carla', 'Dev', 'Emma', 'Femi', 'Gus', 'Hana', 'Ivan', 'Jade', 'Kai', 'Lena', 'Milo', 'Nora', 'Omar', 'Pia'];
const THINGS = ['apples', 'books', 'coins', 'pencils', 'stickers', 'shells', 'cards', 'marbles', 'cookies', 'stamps'];
const PLACES = ['park', 'garden', 'kitchen', 'library', 'beach', 'school', 'market', 'forest'];
const ANIMALS = ['cat', 'dog', 'bird', 'fox', 'rabbit', 'turtle', 'horse', 'duck'];
const ACTIONS = ['reading a book', 'eating lunch', 'playing football', 'painting a wall', 'riding a bike', 'singing a song', 'cooking soup', 'washing a car'];

function pick<T>(random: Random, list: readonly T[]): T {
  return list[random.int(0, list.length - 1)];
}

/** One arithmetic word problem with its worked solution and final number. */
function arithmeticProblem(random: Random): { question: string; answer: string } {
  const name = pick(random, NAMES);
  const thing = pick(random, THINGS);
  const a = random.int(2, 20);
  const b = random.int(2, 12);
  switch (random.int(0, 2)) {
    case 0: {
      const total = a + b;
      return {
        question: `${name} has ${a} ${thing}. A friend gives ${name} ${b} more ${thing}. How many ${thing} does ${name} have now?`,
        answer: `${name} has ${a}+${b}=<<${a}+${b}=${total}>>${total} ${thing}.\n#### ${total}`,
      };
    }
    case 1: {
      const start = a + b;
      return {
        question: `${name} had ${start} ${thing} and gave away ${b} of them. How many ${thing} are left?`,
        answer: `${name} has ${start}-${b}=<<${start}-${b}=${a}>>${a} ${thing} left.\n#### ${a}`,
      };
    }
    default: {
      const boxes = random.int(2, 6);
      const total = boxes * b;
      return {
        question: `${name} fills ${boxes} boxes with ${b} ${thing} each. How many ${thing} is that in total?`,
        answer: `That is ${boxes}*${b}=<<${boxes}*${b}=${total}>>${total} ${thing}.\n#### ${total}`,
      };
    }
  }
}

/** Premise/hypothesis pairs whose label follows from simple word rules. */
function entailmentPair(random: Random): { premise: string; hypothesis: string; label: number; explanation_1: string } {
  const name = pick(random, NAMES);
  const action = pick(random, ACTIONS);
  const place = pick(random, PLACES);
  const premise = `${name} is ${action} in the ${place}.`;
  switch (random.int(0, 2)) {
    case 0:
      return { premise, hypothesis: `${name} is in the ${place}.`, label: 0, explanation_1: `Someone ${action} in the ${place} is in the ${place}.` };
    case 1:
      return { premise, hypothesis: `${name} is ${action} with a friend.`, label: 1, explanation_1: 'The premise does not say whether a friend is there.' };
    default: {
      const other = PLACES.find((candidate) => candidate !== place && random.nextFloat() < 0.5) ?? PLACES.find((candidate) => candidate !== place)!;
      return { premise, hypothesis: `${name} is sleeping in the ${other}.`, label: 2, explanation_1: `${name} cannot be ${action} in the ${place} and sleeping in the ${other}.` };
    }
  }
}

const ANIMAL_HOMES: Record<string, string> = { cat: 'house', dog: 'kennel', bird: 'nest', fox: 'den', rabbit: 'burrow', turtle: 'pond', horse: 'stable', duck: 'pond' };

function commonsenseQuestion(random: Random): { question: string; choices: { label: string[]; text: string[] }; answerKey: string } {
  const animal = pick(random, ANIMALS);
  const correct = ANIMAL_HOMES[animal];
  const wrong = random.shuffle(['oven', 'library', 'bicycle', 'mailbox', 'cloud', 'teacup', 'pocket'].filter((item) => item !== correct)).slice(0, 4);
  const options = random.shuffle([correct, ...wrong]);
  return {
    question: `Where does a ${animal} usually live?`,
    choices: { label: ['A', 'B', 'C', 'D', 'E'], text: options },
    answerKey: 'ABCDE'[options.indexOf(correct)],
  };
}

function pronounSentence(random: Random): { sentence: string; option1: string; option2: string; answer: string } {
  const [first, second] = random.shuffle([...NAMES]).slice(0, 2);
  const hungry = random.int(0, 1) === 0;
  return {
    sentence: `${first} gave ${second} a sandwich because _ was ${hungry ? 'hungry' : 'generous'}.`,
    option1: first,
    option2: second,
    answer: hungry ? '2' : '1',
  };
}

function story(random: Random): string {
  const name = pick(random, NAMES);
  const animal = pick(random, ANIMALS);
  const place = pick(random, PLACES);
  const thing = pick(random, THINGS);
  const count = random.int(2, 9);
  return [
    `Once upon a time, ${name} went to the ${place} with a little ${animal}.`,
    `They found ${count} ${thing} under a tree.`,
    `${name} shared the ${thing} with friends, and the ${animal} was happy.`,
    `At night, ${name} said, "Today was a good day."`,
  ].join(' ');
}

function jsonLines(records: unknown[]): string {
  return records.map((record) => JSON.stringify(record)).join('\n') + '\n';
}

async function write(root: string, relative: string, text: string): Promise<void> {
  const file = path.join(root, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}

export interface DemoDataSizes {
  train: number;
  test: number;
  stories: number;
}

/** Writes every demo dataset under `root`; the same seed always gives the same bytes. */
export async function generateDemoData(root: string, seed = 2024, sizes: DemoDataSizes = { train: 600, test: 60, stories: 600 }): Promise<void> {
  const random = new Random(seed);
  const many = <T>(count: number, make: (random: Random) => T) => Array.from({ length: count }, () => make(random));

  await write(root, 'gsm8k/train.jsonl', jsonLines(many(sizes.train, arithmeticProblem)));
  await write(root, 'gsm8k/test.jsonl', jsonLines(many(sizes.test, arithmeticProblem)));
  await write(root, 'esnli/esnli_train.jsonl', jsonLines(many(sizes.train, entailmentPair)));
  await write(root, 'esnli/esnli_test.jsonl', jsonLines(many(sizes.test, entailmentPair)));
  await write(root, 'commonsenseqa/hf_layout/train.jsonl', jsonLines(many(sizes.train, commonsenseQuestion)));
  await write(root, 'commonsenseqa/hf_layout/validation.jsonl', jsonLines(many(sizes.test, commonsenseQuestion)));
  await write(root, 'winogrande/winogrande_1.1/train_xl.jsonl', jsonLines(many(sizes.train, pronounSentence)));
  await write(root, 'winogrande/winogrande_1.1/dev.jsonl', jsonLines(many(sizes.test, pronounSentence)));

  const stories = many(sizes.stories, story);
  await write(root, 'tinystories/stories-train.txt', stories.slice(0, sizes.stories - 60).join('\n<|endoftext|>\n') + '\n');
  await write(root, 'tinystories/stories-valid.txt', stories.slice(sizes.stories - 60).join('\n<|endoftext|>\n') + '\n');
  await write(root, 'wikitext-2/train.txt', stories.slice(0, sizes.stories - 60).map((text) => ` ${text} \n`).join(''));
  await write(root, 'wikitext-2/test.txt', stories.slice(sizes.stories - 60).map((text) => ` ${text} \n`).join(''));
}
