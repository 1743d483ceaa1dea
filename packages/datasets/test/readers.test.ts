import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@sculpt/core';
import { Llama2cTokenizer, readRecords, splitOfPath } from '../src/index.js';
import { allRecords, createDataset, zstdRawFrame } from './helpers.js';
import { tok512Path } from './paths.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sculpt-readers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(path: string, options = {}) {
  const values = [];
  for await (const record of readRecords(path, options)) values.push(record);
  return values;
}

async function errorOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(InputError);
  return String(error);
}

describe('JSON lines', () => {
  it('accepts CRLF, blank lines and a BOM', async () => {
    const path = join(dir, 'quirks.jsonl');
    await writeFile(path, '\uFEFF{"a": 1}\r\n\r\n{"a": 2}\r\n   \n{"a": 3}');
    const records = await collect(path);
    expect(records.map((record) => record.value)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(records.map((record) => record.line)).toEqual([1, 3, 5]);
  });

  it('names the line of malformed JSON', async () => {
    const path = join(dir, 'broken.jsonl');
    await writeFile(path, '{"a": 1}\n\n{"a": 2\n');
    const message = await errorOf(collect(path));
    expect(message).toContain(path);
    expect(message).toContain('line 3: invalid JSON');
  });

  it('reads Zstandard-compressed files', async () => {
    const path = join(dir, 'packed.jsonl.zst');
    await writeFile(path, zstdRawFrame(Buffer.from('{"text": "one"}\n{"text": "two"}\n')));
    expect((await collect(path)).map((record) => record.value)).toEqual([{ text: 'one' }, { text: 'two' }]);
    const whole = join(dir, 'packed.txt.zst');
    await writeFile(whole, zstdRawFrame(Buffer.from('doc one\n\ndoc two\n')));
    expect((await collect(whole)).map((record) => record.value)).toEqual(['doc one', 'doc two']);
  });

  it('rejects corrupt compressed data', async () => {
    const zst = join(dir, 'corrupt.jsonl.zst');
    await writeFile(zst, Buffer.from('not zstd at all\n'));
    expect(await errorOf(collect(zst))).toContain(zst);
    const gz = join(dir, 'corrupt.jsonl.gz');
    await writeFile(gz, Buffer.from('not gzip at all\n'));
    expect(await errorOf(collect(gz))).toContain(gz);
  });

  it('reads gzip-compressed files', async () => {
    const path = join(dir, 'packed.jsonl.gz');
    await writeFile(path, gzipSync('{"text": "one"}\n{"text": "two"}\n'));
    expect((await collect(path)).map((record) => record.value)).toEqual([{ text: 'one' }, { text: 'two' }]);
  });
});

describe('other formats', () => {
  it('reads JSON arrays, data wrappers and JSON lines named .json', async () => {
    await writeFile(join(dir, 'array.json'), '[{"x": 1}, {"x": 2}]');
    await writeFile(join(dir, 'wrapped.json'), '{"version": "1", "data": [{"x": 3}]}');
    await writeFile(join(dir, 'lines.json'), '{"x": 4}\n{"x": 5}\n');
    expect((await collect(join(dir, 'array.json'))).map((record) => record.value)).toEqual([{ x: 1 }, { x: 2 }]);
    expect((await collect(join(dir, 'wrapped.json'))).map((record) => record.value)).toEqual([{ x: 3 }]);
    expect((await collect(join(dir, 'lines.json'))).map((record) => record.line)).toEqual([1, 2]);
  });

  it('reads quoted CSV fields', async () => {
    const path = join(dir, 'table.csv');
    await writeFile(path, 'id,text\r\n1,"a, ""quoted""\nline"\r\n2,plain\r\n');
    const records = await collect(path);
    expect(records.map((record) => record.value)).toEqual([{ id: '1', text: 'a, "quoted"\nline' }, { id: '2', text: 'plain' }]);
    expect(records.map((record) => record.line)).toEqual([2, 4]);
  });

  it('rejects a CSV row with a wrong field count', async () => {
    const path = join(dir, 'ragged.csv');
    await writeFile(path, 'a,b\n1,2\n3\n');
    expect(await errorOf(collect(path))).toContain('line 3: 1 fields, but the header has 2');
  });

  it('reads Parquet through hyparquet', async () => {
    const path = join(dir, 'rows.parquet');
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'question', data: ['What is 2+2?', 'What is 3*3?'], type: 'STRING' },
        { name: 'answer', data: ['It is 4.\n#### 4', 'It is 9.\n#### 9'], type: 'STRING' },
      ],
    });
    await writeFile(path, new Uint8Array(buffer));
    expect((await collect(path)).map((record) => record.value)).toEqual([
      { question: 'What is 2+2?', answer: 'It is 4.\n#### 4' },
      { question: 'What is 3*3?', answer: 'It is 9.\n#### 9' },
    ]);

    // A dataset reads the same file in a Hugging Face layout.
    await mkdir(join(dir, 'hf', 'gsm8k', 'main'), { recursive: true });
    await writeFile(join(dir, 'hf', 'gsm8k', 'main', 'train-00000-of-00001.parquet'), new Uint8Array(buffer));
    const gsm8k = await createDataset('gsm8k', { dataDir: join(dir, 'hf') });
    const records = await allRecords(gsm8k, 'train');
    expect(gsm8k.formatExample(records[1], 'single')).toBe('Question: What is 3*3?\nAnswer: 9');
  });

  it('finds ANLI rounds in Hugging Face file names', async () => {
    const folder = join(dir, 'hf-anli', 'anli', 'plain_text');
    await mkdir(folder, { recursive: true });
    const rows = (round: number) =>
      parquetWriteBuffer({
        columnData: [
          { name: 'uid', data: [`u${round}`], type: 'STRING' },
          { name: 'premise', data: [`premise of round ${round}`], type: 'STRING' },
          { name: 'hypothesis', data: ['h'], type: 'STRING' },
          { name: 'label', data: [round - 1], type: 'INT32' },
          { name: 'reason', data: [''], type: 'STRING' },
        ],
      });
    for (const round of [1, 2, 3]) await writeFile(join(folder, `train_r${round}-00000-of-00001.parquet`), new Uint8Array(rows(round)));
    const anli = await createDataset('anli_r2', { dataDir: join(dir, 'hf-anli') });
    const records = await allRecords(anli, 'train');
    expect(records).toHaveLength(1);
    expect(anli.formatExample(records[0], 'single')).toBe('Premise: premise of round 2\nHypothesis: h\nLabel: neutral');
  });

  it('splits text files into documents', async () => {
    const path = join(dir, 'docs.txt');
    await writeFile(path, 'first doc\nstill first\n\n\nsecond doc\n');
    const records = await collect(path);
    expect(records.map((record) => record.value)).toEqual(['first doc\nstill first', 'second doc']);
    expect(records.map((record) => record.line)).toEqual([1, 5]);
  });
});

describe('bad files', () => {
  it('rejects an empty file', async () => {
    const path = join(dir, 'empty.jsonl');
    await writeFile(path, '');
    expect(await errorOf(collect(path))).toContain(`${path}: the file is empty`);
  });

  it('rejects a file of blank lines', async () => {
    const path = join(dir, 'blank.jsonl');
    await writeFile(path, '\n\n  \n');
    expect(await errorOf(collect(path))).toContain('the file contains no records');
  });

  it('reports a missing file', async () => {
    const path = join(dir, 'nope.jsonl');
    expect(await errorOf(collect(path))).toContain(`${path}: file not found`);
  });

  it('rejects an unknown extension', async () => {
    const path = join(dir, 'data.xml');
    await writeFile(path, '<a/>');
    expect(await errorOf(collect(path))).toContain('unknown file type');
  });

  it('names the missing field, the file and the line', async () => {
    const path = join(dir, 'gsm8k-missing.jsonl');
    await writeFile(path, '{"question": "q1", "answer": "a\\n#### 1"}\n{"question": "q2", "solution": "#### 2"}\n');
    const gsm8k = await createDataset('gsm8k', { files: [path] });
    const message = await errorOf(allRecords(gsm8k, 'train'));
    expect(message).toContain(path);
    expect(message).toContain('line 2: missing field "answer"');
    expect(message).toContain('fields present: question, solution');
  });
});

describe('split of a path', () => {
  it('reads the split from path parts', () => {
    expect(splitOfPath('c4-en-train.00000-of-01024.sample.json')).toBe('train');
    expect(splitOfPath('RACE/dev/high/73.txt')).toBe('validation');
    expect(splitOfPath('wikitext-2-valid.sample.txt')).toBe('validation');
    expect(splitOfPath('esnli_test.hf.sample.jsonl')).toBe('test');
    expect(splitOfPath('SVAMP.sample.json')).toBe('all');
    expect(splitOfPath('trainer_notes.jsonl')).toBe('all');
  });
});

describe('custom dataset', () => {
  let tokenizer: Llama2cTokenizer;
  beforeAll(async () => {
    tokenizer = await Llama2cTokenizer.fromFile(tok512Path);
  });

  it('renders a template with mapped and nested fields', async () => {
    const path = join(dir, 'custom.jsonl.gz');
    const lines = Array.from({ length: 20 }, (_unused, i) => JSON.stringify({ q: { text: `What is ${i}+1?` }, a: String(i + 1), why: `${i} and 1 make ${i + 1}` }));
    await writeFile(path, gzipSync(lines.join('\n')));
    const custom = await createDataset('custom', {
      files: [path],
      template: 'Q: {question}\nA: {answer}',
      fields: { question: 'q.text', answer: 'a' },
      rationaleField: 'why',
    });
    expect(custom.formats).toEqual(['zero', 'single', 'icl', 'cot']);
    const [record] = await allRecords(custom, 'train');
    expect(custom.formatExample(record, 'zero')).toBe('Q: What is 0+1?\nA: ');
    expect(custom.formatExample(record, 'single')).toBe('Q: What is 0+1?\nA: 1');
    expect(custom.formatExample(record, 'cot')).toBe('Q: What is 0+1?\nA: 0 and 1 make 1 So the answer is 1.');
    const set = await custom.calibration({ tokenizer, format: 'icl', nsamples: 2, seqlen: 64, seed: 0 });
    expect(set.samples.map((sample) => sample.length)).toEqual([64, 64]);
  });

  it('windows a text file without a template', async () => {
    const path = join(dir, 'corpus.txt');
    await writeFile(path, 'Once upon a time there was a dog. '.repeat(40) + '\n\nA short one.\n');
    const custom = await createDataset('custom', { files: [path] });
    expect(custom.formats).toEqual(['window']);
    const set = await custom.calibration({ tokenizer, format: 'window', nsamples: 2, seqlen: 32, seed: 0 });
    expect(set.samples.every((sample) => sample.length === 32)).toBe(true);
  });

  it('names a missing template field', async () => {
    const path = join(dir, 'custom.csv');
    await writeFile(path, 'question,answer\nq1,a1\n');
    const custom = await createDataset('custom', { files: [path], template: '{question} {label}' });
    const message = await errorOf(allRecords(custom, 'train'));
    expect(message).toContain(`${path}: line 2: missing field "label" for template placeholder {label}`);
  });

  it('needs a file', async () => {
    await expect(createDataset('custom', {})).rejects.toThrow(/the custom dataset needs a file: pass --data FILE/);
  });
});
