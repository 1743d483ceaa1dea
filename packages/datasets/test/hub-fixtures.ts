/**
 * Small stand-in files for the hub sources of the datasets whose shared
 * samples do not come in the hub's layout. Each file has the column names and
 * Parquet types the Hugging Face rows have (class labels are int64, RACE
 * options are a list of strings), so the test exercises the same readers and
 * normalizers a real download would.
 */
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';

const ANLI_REVISION = 'bf206833154d4fcaf5e3b01b8bf17d4d15213cb1';
const CONVERSION = 'refs/convert/parquet';

/** A file the stand-in serves, keyed as `<repo>/<revision>/<path>`, with the formatted text its first record must give. */
export interface HubFixture {
  dataset: string;
  /** Plugin options besides the hub settings (WinoGrande's training size). */
  options?: Record<string, unknown>;
  repo: string;
  revision: string;
  path: string;
  body: Buffer;
  /** Record count the split must have. */
  records: number;
  format: 'window' | 'zero' | 'single' | 'cot';
  /** Expected `formatExample` output for the first record. */
  firstExample: string;
}

type Column = { name: string; data: unknown[]; type?: 'STRING' | 'INT64' | 'DOUBLE' };

function parquet(columns: Column[]): Buffer {
  const buffer = parquetWriteBuffer({ columnData: columns.map((column) => ({ type: 'STRING', ...column })) as never });
  return Buffer.from(buffer);
}

/** Writes RACE rows, whose `options` column is a Parquet LIST of strings and needs an explicit schema. */
function raceParquet(rows: { example_id: string; article: string; answer: string; question: string; options: string[] }[]): Buffer {
  const text = { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' } as const;
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'example_id', data: rows.map((row) => row.example_id) },
      { name: 'article', data: rows.map((row) => row.article) },
      { name: 'answer', data: rows.map((row) => row.answer) },
      { name: 'question', data: rows.map((row) => row.question) },
      { name: 'options', data: rows.map((row) => row.options) },
    ],
    schema: [
      { name: 'root', num_children: 5 },
      { name: 'example_id', ...text },
      { name: 'article', ...text },
      { name: 'answer', ...text },
      { name: 'question', ...text },
      { name: 'options', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', ...text },
    ],
  } as never);
  return Buffer.from(buffer);
}

/** Builds a web-like document long enough for several 32-token windows of the 512-token llama2.c vocabulary. */
function longDocument(topic: string): string {
  return [
    `The ${topic} report describes how the town council met on a rainy morning to discuss the new library.`,
    'Several residents asked whether the reading rooms would stay open late during the winter months.',
    'The architect answered that the building would use large windows and a small garden for children.',
  ].join(' ');
}

function anliFixture(round: 1 | 2 | 3): HubFixture {
  const premise = `Round ${round}: the river flooded the lower village after three days of rain.`;
  const hypothesis = 'The village stayed dry.';
  const reason = 'The premise says the village flooded, so it was not dry.';
  return {
    dataset: `anli_r${round}`,
    repo: 'facebook/anli',
    revision: ANLI_REVISION,
    path: `plain_text/train_r${round}-00000-of-00001.parquet`,
    body: parquet([
      { name: 'uid', data: [`r${round}-a`, `r${round}-b`] },
      { name: 'premise', data: [premise, 'A cat sleeps on the sofa.'] },
      { name: 'hypothesis', data: [hypothesis, 'An animal is resting.'] },
      { name: 'label', data: [2n, 0n], type: 'INT64' },
      { name: 'reason', data: [reason, ''] },
    ]),
    records: 2,
    format: 'cot',
    firstExample: `Premise: ${premise}\nHypothesis: ${hypothesis}\nLabel: ${reason} So the answer is contradiction.`,
  };
}

export function hubFixtures(): HubFixture[] {
  const oscarText = longDocument('OSCAR');
  const redpajamaHead = longDocument('head');
  const redpajamaMiddle = longDocument('middle');
  const redpajamaLine = (id: string, text: string) => JSON.stringify({ raw_content: text, doc_id: id, meta: '{"url": "http://example.org"}' });

  return [
    {
      dataset: 'oscar',
      repo: 'oscar-corpus/oscar',
      revision: CONVERSION,
      path: 'unshuffled_deduplicated_en/partial-train/0000.parquet',
      body: parquet([
        { name: 'id', data: [0n, 1n], type: 'INT64' },
        { name: 'text', data: [oscarText, longDocument('second')] },
      ]),
      records: 2,
      format: 'window',
      firstExample: oscarText,
    },
    {
      dataset: 'redpajama',
      repo: 'togethercomputer/RedPajama-Data-V2',
      revision: 'main',
      path: 'sample/documents/2023-06/0000/en_head.json.gz',
      body: gzipSync(`${redpajamaLine('head-0', redpajamaHead)}\n${redpajamaLine('head-1', longDocument('other'))}\n`),
      // Both shards of the sample: two documents in the head shard and one in the middle shard.
      records: 3,
      format: 'window',
      firstExample: redpajamaHead,
    },
    {
      dataset: 'redpajama',
      repo: 'togethercomputer/RedPajama-Data-V2',
      revision: 'main',
      path: 'sample/documents/2023-06/0000/en_middle.json.gz',
      body: gzipSync(`${redpajamaLine('middle-0', redpajamaMiddle)}\n`),
      records: 3,
      format: 'window',
      firstExample: redpajamaHead,
    },
    {
      dataset: 'svamp',
      repo: 'ChilleD/SVAMP',
      revision: CONVERSION,
      path: 'default/train/0000.parquet',
      body: parquet([
        { name: 'ID', data: ['chal-1', 'chal-2'] },
        { name: 'Body', data: ['Jack had 8 pens and gave 3 to Mary.', 'A box holds 6 eggs.'] },
        { name: 'Question', data: ['How many pens does Jack have now?', 'How many eggs are in 4 boxes?'] },
        { name: 'Equation', data: ['( 8.0 - 3.0 )', '( 6.0 * 4.0 )'] },
        { name: 'Answer', data: [5, 24], type: 'DOUBLE' },
        { name: 'Type', data: ['Subtraction', 'Multiplication'] },
      ]),
      records: 2,
      format: 'single',
      firstExample: 'Question: Jack had 8 pens and gave 3 to Mary. How many pens does Jack have now?\nAnswer: ( 8.0 - 3.0 )',
    },
    {
      dataset: 'mawps',
      repo: 'MU-NLPC/Calc-mawps',
      revision: CONVERSION,
      path: 'default/train/0000.parquet',
      body: parquet([
        { name: 'id', data: ['mawps__1', 'mawps__2'] },
        { name: 'question', data: ['Sara has 4 apples and buys 5 more. How many apples does she have?', 'Tom reads 7 pages a day for 3 days. How many pages?'] },
        { name: 'chain', data: ['<gadget id="calculator">4 + 5</gadget>', '<gadget id="calculator">7 * 3</gadget>'] },
        { name: 'result', data: ['9', '21'] },
        { name: 'result_float', data: [9, 21], type: 'DOUBLE' },
        { name: 'expression', data: ['4 + 5', '7 * 3'] },
      ]),
      records: 2,
      format: 'single',
      firstExample: 'Question: Sara has 4 apples and buys 5 more. How many apples does she have?\nAnswer: 4 + 5',
    },
    anliFixture(1),
    anliFixture(2),
    anliFixture(3),
    {
      dataset: 'esnli',
      repo: 'esnli/esnli',
      revision: CONVERSION,
      path: 'plain_text/train/0000.parquet',
      body: parquet([
        { name: 'premise', data: ['A man plays a guitar on stage.', 'Two dogs run in a field.'] },
        { name: 'hypothesis', data: ['A person makes music.', 'The dogs are asleep.'] },
        { name: 'label', data: [0n, 2n], type: 'INT64' },
        { name: 'explanation_1', data: ['Playing a guitar is making music.', 'Running dogs are not asleep.'] },
        { name: 'explanation_2', data: ['', ''] },
        { name: 'explanation_3', data: ['', ''] },
      ]),
      records: 2,
      format: 'cot',
      firstExample: 'Premise: A man plays a guitar on stage.\nHypothesis: A person makes music.\nLabel: Playing a guitar is making music. So the answer is entailment.',
    },
    {
      dataset: 'race',
      repo: 'ehovy/race',
      revision: CONVERSION,
      path: 'all/train/0000.parquet',
      body: raceParquet([
        {
          example_id: 'high1.txt',
          article: 'Maria opened a bakery in 1998. Every morning she baked bread before sunrise.',
          answer: 'C',
          question: 'When did Maria bake bread?',
          options: ['At noon', 'At night', 'Before sunrise', 'Never'],
        },
        {
          example_id: 'high1.txt',
          article: 'Maria opened a bakery in 1998. Every morning she baked bread before sunrise.',
          answer: 'A',
          question: 'What did Maria open?',
          options: ['A bakery', 'A school', 'A shop for shoes', 'A library'],
        },
      ]),
      records: 2,
      format: 'single',
      firstExample:
        'Article: Maria opened a bakery in 1998. Every morning she baked bread before sunrise.\nQuestion: When did Maria bake bread?\nOptions:\n' +
        'A. At noon\nB. At night\nC. Before sunrise\nD. Never\n\nAnswer: C',
    },
    {
      dataset: 'winogrande',
      repo: 'allenai/winogrande',
      revision: CONVERSION,
      path: 'winogrande_m/train/0000.parquet',
      body: parquet([
        { name: 'sentence', data: ['The trophy did not fit in the suitcase because the _ was too big.', 'Anna thanked Beth because _ had helped her.'] },
        { name: 'option1', data: ['trophy', 'Anna'] },
        { name: 'option2', data: ['suitcase', 'Beth'] },
        { name: 'answer', data: ['1', '2'] },
      ]),
      records: 2,
      format: 'single',
      firstExample: 'Sentence: The trophy did not fit in the suitcase because the _ was too big.\nOptions:\n1. trophy\n2. suitcase\nAnswer: 1',
    },
    {
      dataset: 'winogrande',
      options: { size: 'xs' },
      repo: 'allenai/winogrande',
      revision: CONVERSION,
      path: 'winogrande_xs/train/0000.parquet',
      body: parquet([
        { name: 'sentence', data: ['The cup fell off the table because _ was tilted.'] },
        { name: 'option1', data: ['the cup'] },
        { name: 'option2', data: ['the table'] },
        { name: 'answer', data: ['2'] },
      ]),
      records: 1,
      format: 'single',
      firstExample: 'Sentence: The cup fell off the table because _ was tilted.\nOptions:\n1. the cup\n2. the table\nAnswer: 2',
    },
  ];
}
