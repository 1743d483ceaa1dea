/**
 * Commonsense and reading comprehension: commonsense_qa, race, winogrande.
 */
import type { DatasetDefinition, Fields } from './definition.js';
import { asObject, field, invalid, listField, textField, type RecordLocation } from './fields.js';
import { PARQUET_CONVERSION_REVISION, parquetConversionFiles } from '../sources/hub.js';

const LETTERS = 'ABCDEFGHIJ';

/**
 * CommonsenseQA in three layouts, normalized to the Hugging Face one
 * ({id, question, choices: {label[], text[]}, answerKey}):
 * - original: question = {stem, choices: [{label, text}]};
 * - Hugging Face: question is a string, choices = {label[], text[]};
 * - distilling-step-by-step: choices = [text...], answer = the answer text.
 */
function normalizeCommonsenseQa(raw: unknown, location: RecordLocation): Fields[] {
  const record = asObject(raw, location);
  const question = field(record, 'question', location);

  let stem: string;
  let labels: string[];
  let texts: string[];
  if (typeof question === 'object' && question !== null) {
    const nested = question as Record<string, unknown>;
    stem = textField(nested, 'stem', location);
    const choices = listField(nested, 'choices', location).map((choice) => asObject(choice, location));
    labels = choices.map((choice) => textField(choice, 'label', location));
    texts = choices.map((choice) => textField(choice, 'text', location));
  } else {
    stem = textField(record, 'question', location);
    const choices = field(record, 'choices', location);
    if (Array.isArray(choices)) {
      texts = choices.map(String);
      labels = texts.map((_text, index) => LETTERS[index]);
    } else {
      const flat = asObject(choices, location);
      labels = listField(flat, 'label', location).map(String);
      texts = listField(flat, 'text', location).map(String);
    }
  }
  if (labels.length !== texts.length || labels.length === 0) throw invalid(location, 'choices must have as many labels as texts, and at least one');

  let answerKey = record.answerKey;
  if (answerKey === undefined && typeof record.answer === 'string') {
    const position = texts.indexOf(record.answer);
    if (position < 0) throw invalid(location, `answer ${JSON.stringify(record.answer)} is not one of the choices`);
    answerKey = labels[position];
  }
  if (typeof answerKey !== 'string' || !labels.includes(answerKey)) {
    throw invalid(location, `missing or invalid field "answerKey" (${JSON.stringify(answerKey)}); expected one of ${labels.join(', ')}`);
  }
  return [{ id: record.id, question: stem, choices: { label: labels, text: texts }, answerKey }];
}

function choiceLines(fields: Fields): string {
  const choices = fields.choices as { label: string[]; text: string[] };
  return choices.label.map((label, index) => `${label}. ${choices.text[index]}\n`).join('');
}

export const commonsenseQa: DatasetDefinition = {
  name: 'commonsense_qa',
  description: 'CommonsenseQA five-way multiple choice; single, icl, cot (external rationales)',
  family: 'downstream',
  layout: {
    folders: ['commonsenseqa', 'commonsense_qa', 'CommonsenseQA', 'tau/commonsense_qa'],
    // The public test split has no answers.
    accept: (path) => !path.includes('no_answers'),
  },
  normalize: normalizeCommonsenseQa,
  hub: {
    repo: 'tau/commonsense_qa',
    revision: 'main',
    files: { train: ['data/train-00000-of-00001.parquet'], validation: ['data/validation-00000-of-00001.parquet'] },
  },
  splits: { calibration: 'train', evaluation: 'validation' },
  formats: ['single', 'icl', 'cot'],
  templates: {
    prompt: (fields) => `Question: ${fields.question as string}\nChoices:\n${choiceLines(fields)}Answer: `,
    answer: (fields) => fields.answerKey as string,
    choices: (fields) => (fields.choices as { text: string[] }).text,
    id: (fields, index) => (typeof fields.id === 'string' ? fields.id : `commonsense_qa-${index}`),
  },
  externalRationales: {
    folder: 'distilling_step_by_step/cqa',
    keyOf: (fields) => (typeof fields.id === 'string' ? fields.id : undefined),
    keyOfRationaleRecord: (raw) => (typeof raw.id === 'string' ? raw.id : undefined),
  },
};

/**
 * RACE: original per-passage files (one JSON object with questions[],
 * options[][], answers[] per file, also the ExpMRC layout wrapped in
 * {"data": [...]}) expand to one record per question; Hugging Face rows
 * already hold one question each.
 */
function normalizeRace(raw: unknown, location: RecordLocation): Fields[] {
  const record = asObject(raw, location);
  const article = textField(record, 'article', location);
  if (record.questions === undefined) {
    const options = listField(record, 'options', location).map(String);
    return [{ example_id: record.example_id, article, question: textField(record, 'question', location), options, answer: textField(record, 'answer', location) }];
  }

  const questions = listField(record, 'questions', location);
  const options = listField(record, 'options', location);
  const answers = listField(record, 'answers', location);
  if (options.length !== questions.length || answers.length !== questions.length) {
    throw invalid(location, `${questions.length} questions but ${options.length} option lists and ${answers.length} answers`);
  }
  const passage = typeof record.id === 'string' ? record.id : `${location.index}`;
  return questions.map((question, index) => {
    const list = options[index];
    if (!Array.isArray(list)) throw invalid(location, `options[${index}] must be a list`);
    return { example_id: `${passage}-${index}`, article, question: String(question), options: list.map(String), answer: String(answers[index]) };
  });
}

export const race: DatasetDefinition = {
  name: 'race',
  description: 'RACE reading comprehension (article, question, four options); single, icl',
  family: 'downstream',
  // Split folders (RACE/train, RACE/dev, RACE/test) or split names in file names (expmrc-race-dev.json).
  layout: { folders: ['race', 'RACE'], extraFormats: true, accept: (path) => /\.(txt|json|jsonl)$/i.test(path) },
  // The per-passage ".txt" files hold JSON; other files (hub Parquet, ExpMRC JSON) are read by their extension.
  read: (file) => (/\.txt$/i.test(file) ? { format: 'json' } : {}),
  normalize: normalizeRace,
  // "race" now lives at ehovy/race. NOTE: unverified paths from the dataset viewer's conversion of config "all";
  // its training split of 88k passages-with-questions may span more shards than 0000.parquet.
  hub: {
    repo: 'ehovy/race',
    revision: PARQUET_CONVERSION_REVISION,
    files: parquetConversionFiles('all', { train: 'train', validation: 'validation', test: 'test' }),
  },
  splits: { calibration: 'train', evaluation: 'test' },
  formats: ['single', 'icl'],
  templates: {
    // Every option line ends with a newline, which leaves a blank line before "Answer:" as in the reference.
    prompt: (fields) =>
      `Article: ${fields.article as string}\nQuestion: ${fields.question as string}\nOptions:\n` +
      (fields.options as string[]).map((option, index) => `${LETTERS[index]}. ${option}\n`).join('') +
      '\nAnswer: ',
    answer: (fields) => fields.answer as string,
    choices: (fields) => fields.options as string[],
    id: (fields, index) => (typeof fields.example_id === 'string' ? fields.example_id : `race-${index}`),
  },
};

export const WINOGRANDE_SIZES = ['xs', 's', 'm', 'l', 'xl', 'debiased'] as const;
export type WinograndeSize = (typeof WINOGRANDE_SIZES)[number];

/** WinoGrande; the training split is the file of the chosen size (`train_m.jsonl` by default, as the reference's winogrande_m). */
export function winogrande(size: WinograndeSize): DatasetDefinition {
  return {
    name: 'winogrande',
    description: 'WinoGrande fill-in-the-blank with two options; single, icl',
    family: 'downstream',
    layout: {
      folders: ['winogrande', 'winogrande_1.1', 'winogrande/winogrande_1.1'],
      accept: (path) => !path.includes('-labels'),
      splitOf: (_path, tokens) => {
        if (!tokens.includes('train')) return undefined;
        // Training files of other sizes are ignored.
        return tokens.includes(size) ? 'train' : null;
      },
    },
    normalize: (raw, location) => {
      const record = asObject(raw, location);
      const answer = textField(record, 'answer', location);
      if (answer !== '1' && answer !== '2') throw invalid(location, `field "answer" must be "1" or "2", got ${JSON.stringify(answer)}`);
      return [
        {
          qID: record.qID,
          sentence: textField(record, 'sentence', location),
          option1: textField(record, 'option1', location),
          option2: textField(record, 'option2', location),
          answer,
        },
      ];
    },
    // "winogrande" now lives at allenai/winogrande, one config per training size (the reference uses winogrande_m).
    // NOTE: unverified paths from the dataset viewer's conversion; validation and test are the same in every config.
    hub: {
      repo: 'allenai/winogrande',
      revision: PARQUET_CONVERSION_REVISION,
      files: parquetConversionFiles(`winogrande_${size}`, { train: 'train', validation: 'validation', test: 'test' }),
    },
    splits: { calibration: 'train', evaluation: 'validation' },
    formats: ['single', 'icl'],
    templates: {
      prompt: (fields) => `Sentence: ${fields.sentence as string}\nOptions:\n1. ${fields.option1 as string}\n2. ${fields.option2 as string}\nAnswer: `,
      answer: (fields) => fields.answer as string,
      choices: (fields) => [fields.option1 as string, fields.option2 as string],
      id: (fields, index) => (typeof fields.qID === 'string' ? fields.qID : `winogrande-${index}`),
    },
  };
}
