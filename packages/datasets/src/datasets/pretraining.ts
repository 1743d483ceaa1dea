/**
 * Pre-training corpora: c4, pile, oscar, redpajama, wikitext2, tinystories.
 * Each is sampled with random windows of one document longer than seqlen.
 */
import type { DatasetDefinition, Fields } from './definition.js';
import { PRETRAINING_FORMATS } from './definition.js';
import { asObject, textField, type RecordLocation } from './fields.js';
import { PARQUET_CONVERSION_REVISION, parquetConversionFiles } from '../sources/hub.js';

const PRETRAINING_SPLITS = { calibration: 'train', evaluation: null } as const;

/** Returns a normalizer for documents that are plain strings (text files) or objects with one of the text fields. */
function documentOf(fieldNames: readonly string[]) {
  return (raw: unknown, location: RecordLocation): Fields[] => {
    if (typeof raw === 'string') return [{ text: raw }];
    return [{ text: textField(asObject(raw, location), fieldNames, location) }];
  };
}

const text = (fields: Fields) => fields.text as string;

export const c4: DatasetDefinition = {
  name: 'c4',
  description: 'C4 English web text (allenai/c4, first training shard), random windows',
  family: 'pretraining',
  layout: { folders: ['c4', 'allenai/c4', 'allenai-c4'] },
  normalize: documentOf(['text']),
  // The reference pins this revision because the old "allenai--c4" config was removed from the hub.
  hub: {
    repo: 'allenai/c4',
    revision: '607bd4c8450a42878aa9ddc051a65a055450ef87',
    files: { train: ['en/c4-train.00000-of-01024.json.gz'], validation: ['en/c4-validation.00000-of-00008.json.gz'] },
  },
  splits: PRETRAINING_SPLITS,
  formats: PRETRAINING_FORMATS,
  text,
};

export const pile: DatasetDefinition = {
  name: 'pile',
  description: 'The Pile, uncopyrighted subset (first 5000 training documents), random windows',
  family: 'pretraining',
  layout: { folders: ['the_pile', 'pile', 'pile-uncopyrighted'] },
  normalize: documentOf(['text']),
  hub: {
    repo: 'monology/pile-uncopyrighted',
    revision: 'main',
    files: { train: ['train/00.jsonl.zst'], validation: ['val.jsonl.zst'], test: ['test.jsonl.zst'] },
  },
  maxRecords: 5000,
  splits: PRETRAINING_SPLITS,
  formats: PRETRAINING_FORMATS,
  text,
};

export const oscar: DatasetDefinition = {
  name: 'oscar',
  description: 'OSCAR unshuffled_deduplicated_en (first 5000 documents), random windows',
  family: 'pretraining',
  layout: { folders: ['oscar', 'oscar/unshuffled_deduplicated_en'] },
  // OSCAR 2019 text files separate documents by blank lines; newer releases are JSON lines with "content".
  read: { textSplit: { kind: 'paragraphs' } },
  normalize: documentOf(['text', 'content']),
  // OSCAR 2019 is published as a loading script, so the hub source is the dataset viewer's Parquet conversion.
  // NOTE: unverified path. The viewer converts only the first rows of very large configs, into "partial-train".
  hub: {
    repo: 'oscar-corpus/oscar',
    revision: PARQUET_CONVERSION_REVISION,
    files: parquetConversionFiles('unshuffled_deduplicated_en', { train: 'partial-train' }),
  },
  maxRecords: 5000,
  splits: PRETRAINING_SPLITS,
  formats: PRETRAINING_FORMATS,
  text,
};

export const redpajama: DatasetDefinition = {
  name: 'redpajama',
  description: 'RedPajama-Data-V2 sample documents (field raw_content), random windows',
  family: 'pretraining',
  layout: { folders: ['redpajama', 'RedPajama-Data-V2', 'redpajama-v2'] },
  normalize: documentOf(['raw_content']),
  // The "sample" config reads gzipped JSON lines under sample/documents/<snapshot>/<shard>/; these are its first two.
  // NOTE: unverified paths; the sample config lists more shards than these two.
  hub: {
    repo: 'togethercomputer/RedPajama-Data-V2',
    revision: 'main',
    files: { train: ['sample/documents/2023-06/0000/en_head.json.gz', 'sample/documents/2023-06/0000/en_middle.json.gz'] },
  },
  splits: PRETRAINING_SPLITS,
  formats: PRETRAINING_FORMATS,
  text,
};

export const wikitext2: DatasetDefinition = {
  name: 'wikitext2',
  description: 'WikiText-2 raw, every row joined with " " and windowed as one text',
  family: 'pretraining',
  layout: { folders: ['wikitext-2', 'wikitext2', 'wikitext-2-raw', 'wikitext-2-raw-v1'] },
  // Hugging Face rows are the file's lines with their newline; whitespace-only lines become "".
  read: { textSplit: { kind: 'lines' }, keepLineEnds: true },
  normalize: (raw, location) => {
    if (typeof raw === 'string') return [{ text: raw.trim() === '' ? '' : raw }];
    return [{ text: textField(asObject(raw, location), 'text', location) }];
  },
  hub: {
    repo: 'Salesforce/wikitext',
    revision: 'main',
    files: {
      train: ['wikitext-2-raw-v1/train-00000-of-00001.parquet'],
      validation: ['wikitext-2-raw-v1/validation-00000-of-00001.parquet'],
      test: ['wikitext-2-raw-v1/test-00000-of-00001.parquet'],
    },
  },
  joinDocuments: ' ',
  splits: PRETRAINING_SPLITS,
  formats: PRETRAINING_FORMATS,
  text,
};

export const tinystories: DatasetDefinition = {
  name: 'tinystories',
  description: 'TinyStories V2 (GPT-4 stories separated by <|endoftext|>), random windows',
  family: 'pretraining',
  layout: { folders: ['tinystories', 'TinyStories'] },
  read: { textSplit: { kind: 'separator', separator: '<|endoftext|>' } },
  normalize: documentOf(['text']),
  hub: {
    repo: 'roneneldan/TinyStories',
    revision: 'main',
    files: { train: ['TinyStoriesV2-GPT4-train.txt'], validation: ['TinyStoriesV2-GPT4-valid.txt'] },
  },
  splits: PRETRAINING_SPLITS,
  formats: PRETRAINING_FORMATS,
  text,
};
