import { beforeAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '@sculpt/core';
import { Llama2cTokenizer, buildMixture, type CalibrationFormat, type Split } from '../src/index.js';
import { createDataset } from './helpers.js';
import { sharedData, tok512Path } from './paths.js';

/** The sample split of each dataset present under shared data, and its options. */
const SAMPLES: { name: string; split: Split; options?: Record<string, unknown> }[] = [
  { name: 'c4', split: 'train' },
  { name: 'pile', split: 'all' },
  { name: 'oscar', split: 'all' },
  { name: 'wikitext2', split: 'validation' },
  { name: 'tinystories', split: 'train' },
  { name: 'gsm8k', split: 'test' },
  { name: 'svamp', split: 'all' },
  { name: 'mawps', split: 'all' },
  { name: 'anli_r1', split: 'validation' },
  { name: 'anli_r3', split: 'validation' },
  { name: 'esnli', split: 'test' },
  { name: 'commonsense_qa', split: 'validation' },
  { name: 'race', split: 'validation' },
  { name: 'winogrande', split: 'train', options: { size: 'xl' } },
  { name: 'ellipses', split: 'train' },
  { name: 'random', split: 'train' },
];

let tokenizer: Llama2cTokenizer;
beforeAll(async () => {
  tokenizer = await Llama2cTokenizer.fromFile(tok512Path);
});

describe('every dataset sample', () => {
  for (const { name, split, options } of SAMPLES) {
    it(`${name} builds seqlen windows in each format`, async () => {
      const dataset = await createDataset(name, { dataDir: sharedData, ...options });
      expect(dataset.formats.length).toBeGreaterThan(0);
      for (const format of dataset.formats) {
        // RACE articles and padded NLI examples need room; 512 is stories260K's context.
        const seqlen = 512;
        const set = await dataset.calibration({ tokenizer, format, nsamples: 3, seqlen, seed: 1, split });
        expect(set.samples).toHaveLength(3);
        for (const sample of set.samples) {
          expect(sample).toBeInstanceOf(Int32Array);
          expect(sample.length).toBe(seqlen);
          expect(sample.every((id) => id >= 0 && id < tokenizer.vocabSize)).toBe(true);
        }
        expect(set.provenance).toHaveLength(3);
        expect(set.provenance[0].dataset).toBe(name);
        expect(set.provenance[0].split).toBe(split);
        const padded = format === 'zero' || format === 'single';
        expect(set.attentionMask !== undefined).toBe(padded);
      }
    });
  }
});

describe('window sampler', () => {
  it('takes the window from one document at the logged offset', async () => {
    const dataset = await createDataset('c4', { dataDir: sharedData });
    const set = await dataset.calibration({ tokenizer, format: 'window', nsamples: 4, seqlen: 64, seed: 3 });
    const { allRecords } = await import('./helpers.js');
    const records = await allRecords(dataset, 'train');
    for (const [i, provenance] of set.provenance.entries()) {
      expect(provenance.records).toHaveLength(1);
      const document = records[provenance.records[0].index];
      const tokens = tokenizer.encode(document.fields.text as string);
      expect(tokens.length).toBeGreaterThan(64);
      expect(Array.from(set.samples[i])).toEqual(tokens.slice(provenance.offset, provenance.offset + 64));
      expect(provenance.records[0].line).toBe(provenance.records[0].index + 1);
    }
  });

  it('names the longest document when none is long enough', async () => {
    const dataset = await createDataset('oscar', { dataDir: sharedData });
    const error = await dataset.calibration({ tokenizer, format: 'window', nsamples: 1, seqlen: 100_000, seed: 0, split: 'all' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect(String(error)).toMatch(/no document of oscar all .* has more than seqlen=100000 tokens \(longest found: \d+ tokens in 1 of 1 documents checked\)/);
  });

  it('stops after max attempts on a large corpus', async () => {
    const dataset = await createDataset('c4', { dataDir: sharedData });
    const started = Date.now();
    await expect(dataset.calibration({ tokenizer, format: 'window', nsamples: 1, seqlen: 50_000, seed: 0, maxAttempts: 20 })).rejects.toThrow(/longest found: \d+ tokens in \d+ of 150 documents checked/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe('concat sampler', () => {
  it('concatenates BOS-prefixed examples and windows them', async () => {
    const dataset = await createDataset('mawps', { dataDir: sharedData });
    const set = await dataset.calibration({ tokenizer, format: 'icl', nsamples: 3, seqlen: 256, seed: 5, split: 'all' });
    const { allRecords } = await import('./helpers.js');
    const records = await allRecords(dataset, 'all');
    for (const [i, provenance] of set.provenance.entries()) {
      const joined = provenance.records.flatMap((record) => tokenizer.encode(dataset.formatExample(records[record.index], 'icl')));
      expect(joined.length).toBeGreaterThan(256);
      expect(Array.from(set.samples[i])).toEqual(joined.slice(provenance.offset, provenance.offset + 256));
      // Several whole examples, each starting with its own BOS.
      expect(provenance.records.length).toBeGreaterThan(1);
      expect(joined.filter((id) => id === tokenizer.bosId)).toHaveLength(provenance.records.length);
    }
  });
});

describe('padded sampler', () => {
  it('pads left by default and masks the pads', async () => {
    const dataset = await createDataset('gsm8k', { dataDir: sharedData });
    const set = await dataset.calibration({ tokenizer, format: 'single', nsamples: 2, seqlen: 300, seed: 0, split: 'test' });
    expect(set.padding).toBe('left');
    expect(set.padId).toBe(0);
    const sample = set.samples[0];
    const mask = set.attentionMask![0];
    const first = sample.indexOf(tokenizer.bosId);
    expect(first).toBeGreaterThan(0);
    expect(Array.from(sample.subarray(0, first)).every((id) => id === 0)).toBe(true);
    expect(Array.from(mask.subarray(0, first)).every((bit) => bit === 0)).toBe(true);
    expect(Array.from(mask.subarray(first)).every((bit) => bit === 1)).toBe(true);
  });

  it('pads right when asked', async () => {
    const dataset = await createDataset('esnli', { dataDir: sharedData });
    const set = await dataset.calibration({ tokenizer, format: 'zero', nsamples: 1, seqlen: 200, seed: 0, split: 'test', padding: 'right' });
    expect(set.samples[0][0]).toBe(tokenizer.bosId);
    expect(set.samples[0][199]).toBe(0);
    expect(set.attentionMask![0][0]).toBe(1);
    expect(set.attentionMask![0][199]).toBe(0);
  });

  it('uses an appended [PAD] row in faithful mode', async () => {
    const dataset = await createDataset('winogrande', { dataDir: sharedData, size: 'xl' });
    const set = await dataset.calibration({ tokenizer, format: 'single', nsamples: 1, seqlen: 128, seed: 0, mode: 'faithful' });
    expect(set.padId).toBe(512);
    const sample = set.samples[0];
    expect(sample[0]).toBe(512);
    const mask = set.attentionMask![0];
    for (let i = 0; i < 128; i++) expect(mask[i]).toBe(sample[i] === 512 ? 0 : 1);
  });

  it('faithful mode attends to real tokens equal to the pad id', async () => {
    // With pad id = the id of " " the reference's ids != pad mask also hides real spaces.
    const space = tokenizer.encode(' ', { bos: false })[0];
    const dataset = await createDataset('gsm8k', { dataDir: sharedData });
    const faithful = await dataset.calibration({ tokenizer, format: 'single', nsamples: 4, seqlen: 300, seed: 2, split: 'test', padId: space, mode: 'faithful' });
    const clean = await dataset.calibration({ tokenizer, format: 'single', nsamples: 4, seqlen: 300, seed: 2, split: 'test', padId: space, mode: 'clean' });
    expect(faithful.samples).toEqual(clean.samples);
    const realSpaces = clean.samples.some((sample, i) => sample.some((id, position) => id === space && clean.attentionMask![i][position] === 1));
    expect(realSpaces).toBe(true);
    const count = (masks: Uint8Array[]) => masks.reduce((sum, mask) => sum + mask.reduce((a, b) => a + b, 0), 0);
    expect(count(faithful.attentionMask!)).toBeLessThan(count(clean.attentionMask!));
  });

  it('rejects a seqlen no example fits in', async () => {
    const dataset = await createDataset('race', { dataDir: sharedData });
    await expect(dataset.calibration({ tokenizer, format: 'single', nsamples: 1, seqlen: 32, seed: 0, split: 'validation' })).rejects.toThrow(
      /no example of race validation .* fits in seqlen=32 tokens \(shortest found: \d+ tokens/,
    );
  });
});

describe('reference sampler options', () => {
  it('pads short C4 windows on the left', async () => {
    const c4 = await createDataset('c4', { dataDir: sharedData });
    const clean = await c4.calibration({ tokenizer, format: 'window', nsamples: 2, seqlen: 64, seed: 0, dataSeqlen: 40, padding: 'right' });
    expect(clean.padding).toBe('left');
    expect(clean.samples[0].length).toBe(64);
    expect(Array.from(clean.samples[0].subarray(0, 24)).every((id) => id === tokenizer.padId)).toBe(true);
    expect(Array.from(clean.attentionMask![0].subarray(0, 24)).every((bit) => bit === 0)).toBe(true);
    expect(Array.from(clean.attentionMask![0].subarray(24)).every((bit) => bit === 1)).toBe(true);

    // Faithful mode keeps the reference's quirk: these pads are attended.
    const faithful = await c4.calibration({ tokenizer, format: 'window', nsamples: 2, seqlen: 64, seed: 0, dataSeqlen: 40, mode: 'faithful' });
    expect(faithful.samples[0][0]).toBe(tokenizer.vocabSize);
    expect(Array.from(faithful.attentionMask![0]).every((bit) => bit === 1)).toBe(true);
    expect(Array.from(faithful.samples[0].subarray(24))).toEqual(Array.from(clean.samples[0].subarray(24)));
  });

  it('concatenates exactly K examples', async () => {
    const mawps = await createDataset('mawps', { dataDir: sharedData });
    const set = await mawps.calibration({ tokenizer, format: 'icl', nsamples: 3, seqlen: 512, seed: 0, split: 'all', numInContext: 3 });
    for (const [i, provenance] of set.provenance.entries()) {
      expect(provenance.records).toHaveLength(3);
      const sample = set.samples[i];
      expect(sample.filter((id) => id === tokenizer.bosId)).toHaveLength(3);
      const first = sample.indexOf(tokenizer.bosId);
      expect(Array.from(set.attentionMask![i].subarray(first)).every((bit) => bit === 1)).toBe(true);
      expect(first).toBeGreaterThan(0);
    }
    await expect(mawps.calibration({ tokenizer, format: 'icl', nsamples: 1, seqlen: 64, seed: 0, split: 'all', numInContext: 5, maxAttempts: 50 })).rejects.toThrow(
      /no 5 examples of mawps all .* fit in seqlen=64 tokens after 50 draws/,
    );
  });

  it('filters GSM8K CoT by step count', async () => {
    const gsm8k = await createDataset('gsm8k', { dataDir: sharedData });
    const set = await gsm8k.calibration({ tokenizer, format: 'cot', nsamples: 2, seqlen: 256, seed: 0, split: 'test', cotSteps: 1 });
    const { allRecords } = await import('./helpers.js');
    const records = await allRecords(gsm8k, 'test');
    for (const provenance of set.provenance) {
      for (const used of provenance.records) {
        const text = gsm8k.formatExample(records[used.index], 'cot');
        const tail = text.slice(text.indexOf('\nAnswer: ') + '\nAnswer: '.length);
        expect(tail.split('. ').length - 1).toBe(1);
      }
    }
    await expect(gsm8k.calibration({ tokenizer, format: 'cot', nsamples: 1, seqlen: 64, seed: 0, split: 'test', cotSteps: 500 })).rejects.toThrow(/no gsm8k example has exactly 500 reasoning steps/);
  });

  it('rejects options outside their format', async () => {
    const gsm8k = await createDataset('gsm8k', { dataDir: sharedData });
    await expect(gsm8k.calibration({ tokenizer, format: 'single', nsamples: 1, seqlen: 64, seed: 0, split: 'test', numInContext: 2 })).rejects.toThrow(/numInContext applies to the icl and cot formats/);
    await expect(gsm8k.calibration({ tokenizer, format: 'icl', nsamples: 1, seqlen: 64, seed: 0, split: 'test', dataSeqlen: 2 })).rejects.toThrow(/dataSeqlen applies to pre-training windows only/);
  });
});

describe('determinism', () => {
  const cases: [string, CalibrationFormat, Split, Record<string, unknown>?][] = [
    ['c4', 'window', 'train'],
    ['gsm8k', 'cot', 'test'],
    ['esnli', 'single', 'test'],
    ['random', 'window', 'train'],
  ];
  for (const [name, format, split, options] of cases) {
    it(`${name} ${format}: same seed, same samples`, async () => {
      const first = await (await createDataset(name, { dataDir: sharedData, ...options })).calibration({ tokenizer, format, nsamples: 4, seqlen: 128, seed: 7, split });
      const again = await (await createDataset(name, { dataDir: sharedData, ...options })).calibration({ tokenizer, format, nsamples: 4, seqlen: 128, seed: 7, split });
      const other = await (await createDataset(name, { dataDir: sharedData, ...options })).calibration({ tokenizer, format, nsamples: 4, seqlen: 128, seed: 8, split });
      expect(again.samples).toEqual(first.samples);
      expect(again.provenance).toEqual(first.provenance);
      expect(other.samples).not.toEqual(first.samples);
    });
  }
});

describe('mixtures', () => {
  it('splits nsamples evenly and keeps the order', async () => {
    const gsm8k = await createDataset('gsm8k', { files: [`${sharedData}/gsm8k/test.sample.jsonl`] });
    const c4 = await createDataset('c4', { dataDir: sharedData });
    const set = await buildMixture([gsm8k, c4], { tokenizer, format: 'single', nsamples: 5, seqlen: 400, seed: 0 });
    expect(set.samples).toHaveLength(4);
    expect(set.parts).toEqual([
      { dataset: 'gsm8k', split: 'train', format: 'single', nsamples: 2, sources: [`${sharedData}/gsm8k/test.sample.jsonl`] },
      { dataset: 'c4', split: 'train', format: 'window', nsamples: 2, sources: ['c4/c4-en-train.00000-of-01024.sample.json'] },
    ]);
    expect(set.provenance.map((provenance) => provenance.dataset)).toEqual(['gsm8k', 'gsm8k', 'c4', 'c4']);
    // Window samples carry an all-ones mask next to padded ones.
    expect(Array.from(set.attentionMask![3]).every((bit) => bit === 1)).toBe(true);
  }, 60_000);

  it('reports a missing training split with the splits present', async () => {
    const gsm8k = await createDataset('gsm8k', { dataDir: sharedData });
    await expect(gsm8k.calibration({ tokenizer, format: 'icl', nsamples: 1, seqlen: 64, seed: 0 })).rejects.toThrow(
      /no gsm8k files for split "train": searched .*gsm8k.*; local splits present: test \(choose one with --split\)/,
    );
  });

  it('rejects a format a downstream dataset lacks', async () => {
    const mawps = await createDataset('mawps', { dataDir: sharedData });
    const gsm8k = await createDataset('gsm8k', { dataDir: sharedData });
    const error = await buildMixture([gsm8k, mawps], { tokenizer, format: 'cot', nsamples: 2, seqlen: 64, seed: 0, split: 'all' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect(String(error)).toContain('dataset "mawps" does not support format "cot"; supported formats: single, icl');
  });

  it('rejects more datasets than samples', async () => {
    const c4 = await createDataset('c4', { dataDir: sharedData });
    await expect(buildMixture([c4, c4, c4], { tokenizer, format: 'window', nsamples: 2, seqlen: 64, seed: 0 })).rejects.toThrow(/nsamples=2 is smaller than the number of datasets \(3\)/);
  });
});

describe('request checks', () => {
  it('rejects non-positive sizes', async () => {
    const c4 = await createDataset('c4', { dataDir: sharedData });
    await expect(c4.calibration({ tokenizer, format: 'window', nsamples: 0, seqlen: 64, seed: 0 })).rejects.toThrow(/nsamples must be a positive integer, got 0/);
    await expect(c4.calibration({ tokenizer, format: 'window', nsamples: 1, seqlen: 1.5, seed: 0 })).rejects.toThrow(/seqlen must be a positive integer, got 1.5/);
  });

  it('evaluation items come from the test split', async () => {
    const gsm8k = await createDataset('gsm8k', { dataDir: sharedData });
    const items = [];
    for await (const item of gsm8k.evaluationItems()) items.push(item);
    expect(items).toHaveLength(250);
    expect(items[0].prompt.endsWith('\nAnswer: ')).toBe(true);
    expect(items[0].answer).toBe('3');
    expect(items[0].rationale).toContain('<<2/2=1>>');
    const c4 = await createDataset('c4', { dataDir: sharedData });
    await expect(async () => {
      for await (const item of c4.evaluationItems()) void item;
    }).rejects.toThrow(/pre-training corpus and has no evaluation items/);
  });
});

describe('replay from provenance', () => {
  const cases: [string, CalibrationFormat, Split, Record<string, unknown>][] = [
    ['c4', 'window', 'train', {}],
    ['wikitext2', 'window', 'validation', {}],
    ['c4', 'window', 'train', { dataSeqlen: 48 }],
    ['gsm8k', 'cot', 'test', {}],
    ['mawps', 'icl', 'all', { numInContext: 2 }],
    ['esnli', 'single', 'test', { mode: 'faithful' }],
  ];
  for (const [name, format, split, extra] of cases) {
    it(`${name} ${format} ${JSON.stringify(extra)} rebuilds the samples`, async () => {
      const dataset = await createDataset(name, { dataDir: sharedData });
      const request = { tokenizer, format, nsamples: 3, seqlen: 160, seed: 11, split, ...extra };
      const set = await dataset.calibration(request);
      const fresh = await createDataset(name, { dataDir: sharedData });
      const replayed = await fresh.replay!(set.provenance, request);
      expect(replayed.samples).toEqual(set.samples);
      expect(replayed.attentionMask).toEqual(set.attentionMask);
    });
  }

  it('replays a mixture in order', async () => {
    const { replayMixture } = await import('../src/index.js');
    const gsm8k = await createDataset('gsm8k', { files: [`${sharedData}/gsm8k/test.sample.jsonl`] });
    const c4 = await createDataset('c4', { dataDir: sharedData });
    const request = { tokenizer, format: 'single' as const, nsamples: 4, seqlen: 400, seed: 1 };
    const set = await buildMixture([gsm8k, c4], request);
    const replayed = await replayMixture([c4, gsm8k], set.provenance, request);
    expect(replayed.samples).toEqual(set.samples);
    expect(replayed.attentionMask).toEqual(set.attentionMask);
  });

  it('rejects an offset past the document', async () => {
    const c4 = await createDataset('c4', { dataDir: sharedData });
    const set = await c4.calibration({ tokenizer, format: 'window', nsamples: 1, seqlen: 64, seed: 0 });
    const broken = [{ ...set.provenance[0], offset: 1_000_000 }];
    await expect(c4.replay!(broken, { tokenizer, format: 'window', nsamples: 1, seqlen: 64, seed: 0 })).rejects.toThrow(/provenance entry 0: offset 1000000 \+ 64 tokens exceeds the \d+ tokens of its records/);
    const outside = [{ ...set.provenance[0], records: [{ file: 'x', index: 999 }] }];
    await expect(c4.replay!(outside, { tokenizer, format: 'window', nsamples: 1, seqlen: 64, seed: 0 })).rejects.toThrow(/provenance record index 999 is outside c4 train \(150 records\)/);
  });
});
