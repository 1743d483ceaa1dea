/**
 * Arithmetic word problems: gsm8k, svamp, mawps. Templates are the
 * reference's calibration strings (`prepare_input` in its `lib/data.py`).
 */
import type { DatasetDefinition, Fields } from './definition.js';
import { asObject, field, invalid, listField, textField, type RecordLocation } from './fields.js';
import { normalizeKey } from './rationales.js';
import { PARQUET_CONVERSION_REVISION, parquetConversionFiles } from '../sources/hub.js';

const DOWNSTREAM_SPLITS = { calibration: 'train', evaluation: 'test' } as const;

/** GSM8K answers end with "#### <number>"; the text before it is the rationale. */
function splitGsm8kAnswer(answer: string): { rationale: string; number: string } {
  const at = answer.lastIndexOf('####');
  if (at < 0) return { rationale: '', number: answer.trim() };
  return { rationale: answer.slice(0, at).trim(), number: answer.slice(at + 4).trim() };
}

export const gsm8k: DatasetDefinition = {
  name: 'gsm8k',
  description: 'GSM8K grade-school math (question, answer with "#### n"); zero, single, icl, cot',
  family: 'downstream',
  // The original repository also ships *_socratic files, a different answer style.
  layout: { folders: ['gsm8k', 'grade_school_math/data', 'gsm8k/main'], accept: (path) => !path.includes('socratic') },
  normalize: (raw, location) => {
    const record = asObject(raw, location);
    const answer = textField(record, 'answer', location);
    if (!answer.includes('####')) throw invalid(location, 'field "answer" has no "#### <number>" final answer');
    return [{ question: textField(record, 'question', location), answer }];
  },
  hub: {
    repo: 'openai/gsm8k',
    revision: 'main',
    files: { train: ['main/train-00000-of-00001.parquet'], test: ['main/test-00000-of-00001.parquet'] },
  },
  splits: DOWNSTREAM_SPLITS,
  formats: ['zero', 'single', 'icl', 'cot'],
  templates: {
    prompt: (fields) => `Question: ${fields.question as string}\nAnswer: `,
    answer: (fields) => splitGsm8kAnswer(fields.answer as string).number,
    rationale: (fields) => splitGsm8kAnswer(fields.answer as string).rationale || undefined,
    // The reference writes "{rationale}. So the answer is {n}." with a period after the rationale.
    cotSeparator: '. ',
    id: (_fields, index) => `gsm8k-${index}`,
  },
};

/**
 * SVAMP in three layouts: the original SVAMP.json and ChilleD/SVAMP rows
 * (Body, Question, Equation), and distilling-step-by-step rows (input =
 * "Body\nQuestion", label = equation).
 */
function normalizeSvamp(raw: unknown, location: RecordLocation): Fields[] {
  const record = asObject(raw, location);
  if (record.input !== undefined && record.Body === undefined) {
    const input = textField(record, 'input', location);
    const cut = input.lastIndexOf('\n');
    return [{ Body: cut >= 0 ? input.slice(0, cut) : '', Question: cut >= 0 ? input.slice(cut + 1) : input, Equation: textField(record, 'label', location) }];
  }
  return [
    {
      ID: record.ID ?? record.id,
      Body: textField(record, 'Body', location),
      Question: textField(record, 'Question', location),
      Equation: textField(record, 'Equation', location),
      Answer: record.Answer,
    },
  ];
}

export const svamp: DatasetDefinition = {
  name: 'svamp',
  description: 'SVAMP word problems; the answer is the equation string; single, icl, cot (external rationales)',
  family: 'downstream',
  layout: { folders: ['svamp', 'SVAMP', 'ChilleD/SVAMP'] },
  normalize: normalizeSvamp,
  // NOTE: the repository's own Parquet file names were not verified, so the dataset viewer's conversion is used.
  hub: {
    repo: 'ChilleD/SVAMP',
    revision: PARQUET_CONVERSION_REVISION,
    files: parquetConversionFiles('default', { train: 'train', test: 'test' }),
  },
  splits: DOWNSTREAM_SPLITS,
  formats: ['single', 'icl', 'cot'],
  templates: {
    prompt: (fields) => `Question: ${fields.Body as string} ${fields.Question as string}\nAnswer: `,
    answer: (fields) => fields.Equation as string,
    id: (fields, index) => (typeof fields.ID === 'string' ? fields.ID : `svamp-${index}`),
  },
  // The reference computes SVAMP rationales and then drops them; here they are used.
  externalRationales: {
    folder: 'distilling_step_by_step/svamp',
    keyOf: (fields) => normalizeKey(`${fields.Body as string} ${fields.Question as string}`),
    keyOfRationaleRecord: (raw) => (typeof raw.input === 'string' ? normalizeKey(raw.input) : undefined),
  },
};

/**
 * MAWPS in its original layout (iIndex, sQuestion, lEquations ["X=(3.0*4.0)"],
 * lSolutions) and the Calc-mawps layout (question, expression, result).
 */
function normalizeMawps(raw: unknown, location: RecordLocation): Fields[] {
  const record = asObject(raw, location);
  if (record.sQuestion !== undefined) {
    const equations = listField(record, 'lEquations', location);
    if (equations.length === 0 || typeof equations[0] !== 'string') throw invalid(location, 'field "lEquations" must hold at least one equation string');
    const solutions = listField(record, 'lSolutions', location);
    return [
      {
        id: String(record.iIndex ?? location.index),
        question: (record.sQuestion as string).trim(),
        // "X=(3.0*4.0)" -> "(3.0*4.0)": the unknown's name is not part of the expression.
        expression: equations[0].replace(/^\s*[A-Za-z]\s*=\s*/, ''),
        result: solutions[0],
      },
    ];
  }
  return [
    {
      id: String(record.id ?? location.index),
      question: textField(record, 'question', location),
      expression: textField(record, 'expression', location),
      result: field(record, ['result', 'answer'], location),
    },
  ];
}

export const mawps: DatasetDefinition = {
  name: 'mawps',
  description: 'MAWPS word problems; the answer is the expression; single, icl',
  family: 'downstream',
  layout: { folders: ['mawps', 'mawps-single', 'Calc-mawps'] },
  normalize: normalizeMawps,
  // NOTE: the repository's own Parquet file names were not verified, so the dataset viewer's conversion is used.
  hub: {
    repo: 'MU-NLPC/Calc-mawps',
    revision: PARQUET_CONVERSION_REVISION,
    files: parquetConversionFiles('default', { train: 'train', validation: 'validation', test: 'test' }),
  },
  splits: DOWNSTREAM_SPLITS,
  formats: ['single', 'icl'],
  templates: {
    prompt: (fields) => `Question: ${fields.question as string}\nAnswer: `,
    answer: (fields) => fields.expression as string,
    id: (fields) => `mawps-${fields.id as string}`,
  },
};
