/**
 * Rendered calibration strings for the first record of each sample file,
 * checked against literal strings written from the reference's templates.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDataset, firstRecord } from './helpers.js';
import { sharedData } from './paths.js';

const dataDir = sharedData;

describe('gsm8k templates', () => {
  it('renders zero, single, icl and cot', async () => {
    const dataset = await createDataset('gsm8k', { dataDir });
    const record = await firstRecord(dataset, 'test');
    const question = 'A robe takes 2 bolts of blue fiber and half that much white fiber.  How many bolts in total does it take?';
    expect(dataset.formatExample(record, 'zero')).toBe(`Question: ${question}\nAnswer: `);
    expect(dataset.formatExample(record, 'single')).toBe(`Question: ${question}\nAnswer: 3`);
    expect(dataset.formatExample(record, 'icl')).toBe(`Question: ${question}\nAnswer: 3`);
    expect(dataset.formatExample(record, 'cot')).toBe(
      `Question: ${question}\nAnswer: It takes 2/2=<<2/2=1>>1 bolt of white fiber\nSo the total amount of fabric is 2+1=<<2+1=3>>3 bolts of fabric. So the answer is 3.`,
    );
  });
});

describe('svamp templates', () => {
  it('answers with the equation', async () => {
    const dataset = await createDataset('svamp', { dataDir });
    const record = await firstRecord(dataset, 'all');
    expect(dataset.formatExample(record, 'single')).toBe(
      'Question: Jerry had some action figures on a shelf in his room. Later he added 7 more action figures to the shelf. ' +
        'If there are a total of 10 action figures on his shelf now How many action figures did he have initially on the shelf?\nAnswer: ( 10.0 - 7.0 )',
    );
    expect(() => dataset.formatExample(record, 'zero')).toThrow(/does not support format "zero"; supported formats: single, icl, cot/);
  });

  it('joins distilling rationales for cot', async () => {
    const dataset = await createDataset('svamp', { dataDir });
    const record = await firstRecord(dataset, 'all');
    // chal-7 is not in the rationale sample; find a joined record instead.
    const { allRecords } = await import('./helpers.js');
    const joined = (await allRecords(dataset, 'all')).filter((candidate) => typeof candidate.fields.external_rationale === 'string');
    expect(joined.length).toBeGreaterThan(0);
    expect(record.fields.external_rationale).toBeUndefined();
    const text = dataset.formatExample(joined[0], 'cot');
    expect(text.startsWith(`Question: ${joined[0].fields.Body as string} ${joined[0].fields.Question as string}\nAnswer: `)).toBe(true);
    expect(text.endsWith(` So the answer is ${joined[0].fields.Equation as string}.`)).toBe(true);
    expect(text).not.toMatch(/The answer is .*So the answer is/);
  });
});

describe('mawps templates', () => {
  it('strips the unknown from the equation', async () => {
    const dataset = await createDataset('mawps', { dataDir });
    const record = await firstRecord(dataset, 'all');
    expect(dataset.formatExample(record, 'icl')).toBe(
      'Question: Maggi had 3 packages of cupcakes. There are 4 cupcakes in each package. She ate 5 cupcakes. How many are left?\nAnswer: (3.0*4.0)',
    );
    expect(() => dataset.formatExample(record, 'cot')).toThrow(/"mawps" does not support format "cot" \(this dataset has no rationales/);
  });
});

describe('anli templates', () => {
  it('renders single and cot with the reason', async () => {
    const dataset = await createDataset('anli_r1', { dataDir });
    const record = await firstRecord(dataset, 'validation');
    const head =
      'Premise: Stephen Williams (born 5 June 1961) is a former Australian rules footballer in the South Australian National Football League, ' +
      'playing for the Port Adelaide Magpies and is currently an assistant development coach at Port Adelaide Power and head coach of the Immanuel College first XVIII.\n' +
      'Hypothesis: Stephen Williams quit playing football due to an injury.\nLabel: ';
    expect(dataset.formatExample(record, 'single')).toBe(`${head}neutral`);
    expect(dataset.formatExample(record, 'cot')).toBe(
      `${head}I have no idea why he quit playing and the system didn't have any additional information so the system didn't know how to answer. So the answer is neutral.`,
    );
  });
});

describe('esnli templates', () => {
  it('renders zero, single and cot', async () => {
    const dataset = await createDataset('esnli', { dataDir });
    const record = await firstRecord(dataset, 'test');
    const head = 'Premise: Three firefighter come out of subway station.\nHypothesis: Three firefighters putting out a fire inside of a subway station.\nLabel: ';
    expect(dataset.formatExample(record, 'zero')).toBe(head);
    expect(dataset.formatExample(record, 'single')).toBe(`${head}neutral`);
    expect(dataset.formatExample(record, 'cot')).toBe(`${head}Firefighters have other responsibilities besides putting out a fire. So the answer is neutral.`);
  });
});

describe('commonsense_qa templates', () => {
  it('lists lettered choices', async () => {
    const dataset = await createDataset('commonsense_qa', { dataDir });
    const record = await firstRecord(dataset, 'validation');
    expect(dataset.formatExample(record, 'single')).toBe(
      'Question: Unlike a spider and his many sight seers, people only have what?\nChoices:\nA. tongues\nB. names\nC. brains\nD. feelings\nE. two eyes\nAnswer: E',
    );
  });

  it('reads the original nested layout', async () => {
    const dataset = await createDataset('commonsense_qa', { dataDir });
    const record = await firstRecord(dataset, 'all');
    expect(dataset.formatExample(record, 'icl')).toBe(
      'Question: The program kept getting errors, the amateur end user began to what?\nChoices:\nA. get mad\nB. compile\nC. debug\nD. write code\nE. get frustrated\nAnswer: E',
    );
  });

  it('joins distilling rationales by id for cot', async () => {
    const dataset = await createDataset('commonsense_qa', { dataDir });
    const { allRecords } = await import('./helpers.js');
    const joined = (await allRecords(dataset, 'validation')).filter((record) => record.fields.id === '9c784727afd7176b54764055df7a7927');
    expect(joined).toHaveLength(1);
    expect(dataset.formatExample(joined[0], 'cot')).toBe(
      'Question: A child wants to play, what would they likely want?\nChoices:\nA. fall down\nB. breathe\nC. play tag\nD. be dismembered by a chainsaw\nE. become adult\n' +
        'Answer: The answer must be something that a child would want to do while playing. Of the above choices, only play tag is something that a child would want to do while playing. So the answer is C.',
    );
  });
});

describe('race templates', () => {
  it('leaves a blank line before the answer', async () => {
    const file = join(dataDir, 'race/RACE/train/middle/2.txt');
    const dataset = await createDataset('race', { files: [file] });
    const record = await firstRecord(dataset, 'train');
    const article = (JSON.parse(await readFile(file, 'utf8')) as { article: string }).article;
    expect(dataset.formatExample(record, 'single')).toBe(
      `Article: ${article}\nQuestion: According to the passage,  _  in the morning is the best  _  .\nOptions:\n` +
        'A. drinking some hot soup; medicine\nB. drinking some porridge; breakfast\nC. drinking some water; medicine\nD. Drinking some soft drinks; medicine\n\nAnswer: C',
    );
  });
});

describe('winogrande templates', () => {
  it('numbers the two options', async () => {
    const dataset = await createDataset('winogrande', { dataDir, size: 'xl' });
    const record = await firstRecord(dataset, 'train');
    expect(dataset.formatExample(record, 'single')).toBe(
      'Sentence: He never comes to my home, but I always go to his house because the _ is smaller.\nOptions:\n1. home\n2. house\nAnswer: 1',
    );
  });
});

describe('pre-training text', () => {
  it('returns the document text', async () => {
    const c4 = await createDataset('c4', { dataDir });
    const record = await firstRecord(c4, 'train');
    expect(c4.formatExample(record, 'window').startsWith('BANGALORE CY JUNCTION SBC to GONDIA JUNCTION G train timings')).toBe(true);
    expect(() => c4.formatExample(record, 'icl')).toThrow(/"c4" does not support format "icl"; supported formats: window/);

    const stories = await createDataset('tinystories', { dataDir });
    const story = await firstRecord(stories, 'train');
    expect((story.fields.text as string).startsWith('One day, a little girl named Lily found a needle in her room.')).toBe(true);
    expect(story.fields.text as string).not.toContain('<|endoftext|>');
  });

  it('keeps WikiText rows as Hugging Face does', async () => {
    const wikitext = await createDataset('wikitext2', { dataDir });
    const { allRecords } = await import('./helpers.js');
    const rows = (await allRecords(wikitext, 'validation')).slice(0, 3).map((record) => record.fields.text);
    expect(rows).toEqual(['', ' = Homarus gammarus = \n', '']);
  });
});
