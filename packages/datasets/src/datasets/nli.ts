/**
 * Natural language inference: anli_r1, anli_r2, anli_r3 and esnli.
 * Labels map 0 -> entailment, 1 -> neutral, 2 -> contradiction, as in the
 * Hugging Face datasets; the original files' letters and words map the same way.
 */
import type { DatasetDefinition, DownstreamTemplates, Fields } from './definition.js';
import { asObject, field, invalid, textField, type RecordLocation } from './fields.js';
import { normalizeKey } from './rationales.js';
import { pathTokens } from '../sources/local.js';
import { PARQUET_CONVERSION_REVISION, parquetConversionFiles } from '../sources/hub.js';

export const LABEL_WORDS = ['entailment', 'neutral', 'contradiction'] as const;

const LABEL_BY_NAME: Record<string, number> = {
  e: 0,
  entailment: 0,
  n: 1,
  neutral: 1,
  c: 2,
  contradiction: 2,
};

function labelIndex(value: unknown, location: RecordLocation): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 2) return value;
  // Hugging Face Parquet files store class labels as int64, which hyparquet reads as bigint.
  if (typeof value === 'bigint' && value >= 0n && value <= 2n) return Number(value);
  if (typeof value === 'string') {
    const index = /^[0-2]$/.test(value) ? Number(value) : LABEL_BY_NAME[value.trim().toLowerCase()];
    if (index !== undefined) return index;
  }
  throw invalid(location, `invalid label ${JSON.stringify(value)}; expected 0/1/2, e/n/c or entailment/neutral/contradiction`);
}

function nliTemplates(prefix: string): DownstreamTemplates {
  return {
    prompt: (fields) => `Premise: ${fields.premise as string}\nHypothesis: ${fields.hypothesis as string}\nLabel: `,
    answer: (fields) => LABEL_WORDS[fields.label as number],
    rationale: (fields) => (typeof fields.rationale === 'string' ? fields.rationale : undefined),
    choices: () => [...LABEL_WORDS],
    id: (fields, index) => (typeof fields.uid === 'string' ? fields.uid : `${prefix}-${index}`),
  };
}

/** ANLI originals use "context" and letter labels; Hugging Face rows use "premise" and 0/1/2. */
function normalizeAnli(raw: unknown, location: RecordLocation): Fields[] {
  const record = asObject(raw, location);
  const reason = record.reason;
  return [
    {
      uid: record.uid,
      premise: textField(record, ['premise', 'context'], location),
      hypothesis: textField(record, 'hypothesis', location),
      label: labelIndex(field(record, 'label', location), location),
      rationale: typeof reason === 'string' && reason.trim() !== '' ? reason : undefined,
    },
  ];
}

function anli(round: 1 | 2 | 3): DatasetDefinition {
  return {
    name: `anli_r${round}`,
    description: `Adversarial NLI round ${round} (premise, hypothesis, label, reason); single, icl, cot`,
    family: 'downstream',
    layout: {
      // Round folders of the original release first, then Hugging Face files named by split and round (train_r1-*.parquet).
      folders: [`anli/anli_v1.0/R${round}`, `anli_v1.0/R${round}`, `anli/R${round}`, `anli_r${round}`, 'anli', 'facebook/anli'],
      accept: (path) => {
        const rounds = pathTokens(path).filter((token) => /^r[1-3]$/.test(token));
        return rounds.length === 0 || rounds.includes(`r${round}`);
      },
    },
    normalize: normalizeAnli,
    // The reference pins this revision of "anli", which now lives at facebook/anli; rounds are files, not configs.
    // NOTE: the plain_text/*.parquet paths are the repository's current layout and were not checked at this revision.
    hub: {
      repo: 'facebook/anli',
      revision: 'bf206833154d4fcaf5e3b01b8bf17d4d15213cb1',
      files: {
        train: [`plain_text/train_r${round}-00000-of-00001.parquet`],
        validation: [`plain_text/dev_r${round}-00000-of-00001.parquet`],
        test: [`plain_text/test_r${round}-00000-of-00001.parquet`],
      },
    },
    splits: { calibration: 'train', evaluation: 'test' },
    formats: ['single', 'icl', 'cot'],
    templates: nliTemplates(`anli_r${round}`),
    // Only round 1 has distilling-step-by-step rationales; each record's own "reason" is preferred.
    externalRationales:
      round === 1
        ? {
            folder: 'distilling_step_by_step/anli1',
            keyOf: (fields) => (typeof fields.uid === 'string' ? fields.uid : undefined),
            keyOfRationaleRecord: (raw) => (typeof raw.uid === 'string' ? raw.uid : undefined),
          }
        : undefined,
  };
}

export const anliR1 = anli(1);
export const anliR2 = anli(2);
export const anliR3 = anli(3);

/** e-SNLI: Hugging Face rows (premise, hypothesis, label, explanation_1) or the original CSV columns. */
function normalizeEsnli(raw: unknown, location: RecordLocation): Fields[] {
  const record = asObject(raw, location);
  const explanation = record.explanation_1 ?? record.Explanation_1;
  return [
    {
      premise: textField(record, ['premise', 'Sentence1'], location),
      hypothesis: textField(record, ['hypothesis', 'Sentence2'], location),
      label: labelIndex(field(record, ['label', 'gold_label'], location), location),
      pairID: record.pairID,
      rationale: typeof explanation === 'string' && explanation.trim() !== '' ? explanation : undefined,
    },
  ];
}

const esnliKey = (premise: unknown, hypothesis: unknown) =>
  typeof premise === 'string' && typeof hypothesis === 'string' ? `${normalizeKey(premise)}\n${normalizeKey(hypothesis)}` : undefined;

export const esnli: DatasetDefinition = {
  name: 'esnli',
  description: 'e-SNLI (SNLI with explanations); zero, single, icl, cot',
  family: 'downstream',
  layout: { folders: ['esnli', 'e-SNLI', 'e-snli'] },
  normalize: normalizeEsnli,
  // e-SNLI is published as a loading script, so the hub source is the dataset viewer's Parquet conversion.
  // NOTE: unverified paths; a training split of 550k rows may span more shards than 0000.parquet.
  hub: {
    repo: 'esnli/esnli',
    revision: PARQUET_CONVERSION_REVISION,
    files: parquetConversionFiles('plain_text', { train: 'train', validation: 'validation', test: 'test' }),
  },
  splits: { calibration: 'train', evaluation: 'test' },
  formats: ['zero', 'single', 'icl', 'cot'],
  templates: {
    ...nliTemplates('esnli'),
    id: (fields, index) => (typeof fields.pairID === 'string' ? fields.pairID : `esnli-${index}`),
  },
  externalRationales: {
    folder: 'distilling_step_by_step/esnli',
    keyOf: (fields) => esnliKey(fields.premise, fields.hypothesis),
    keyOfRationaleRecord: (raw) => esnliKey(raw.premise, raw.hypothesis),
  },
};
