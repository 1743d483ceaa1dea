/**
 * `custom`: any local jsonl / json / csv / tsv / parquet / txt file
 * (optionally .gz) with a field mapping and a template string.
 *
 * - Without `template` the file is a pre-training corpus: each record's
 *   `textField` (text files: each document) is windowed.
 * - With `template` (e.g. "Question: {question}\nAnswer: {answer}") records
 *   are question-answer examples. The prompt is the template up to
 *   `{answer}` and the answer is the rest, so `zero`, `single` and `icl` all
 *   work. Setting `rationaleField` adds `cot`.
 * `fields` maps placeholder names to source fields; dotted paths reach into
 * nested objects (`{"question": "question.stem"}`). `{{` and `}}` are literal braces.
 */
import { z } from 'zod';
import { UsageError } from '@sculpt/core';
import type { TextSplit } from '../io/read-records.js';
import type { CalibrationFormat } from '../types.js';
import type { DatasetDefinition, Fields } from './definition.js';
import { asObject, invalid, type RecordLocation } from './fields.js';

export const customOptionsSchema = z.object({
  template: z.string().optional(),
  fields: z.record(z.string(), z.string()).default({}),
  textField: z.string().default('text'),
  /** Field with a rationale, for the cot format. */
  rationaleField: z.string().optional(),
  /** Document rule for text files: paragraphs (blank lines), lines, whole, or a separator string. */
  textSplit: z.string().default('paragraphs'),
});
export type CustomOptions = z.output<typeof customOptionsSchema>;

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z0-9_.-]+)\}/g;

/** Placeholder names of a template, in order of first use. */
export function placeholders(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match[1] !== undefined && !names.includes(match[1])) names.push(match[1]);
  }
  return names;
}

export function renderTemplate(template: string, values: Fields): string {
  return template.replace(PLACEHOLDER, (whole: string, name: string | undefined) => {
    if (name === undefined) return whole[0];
    const value = values[name];
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return JSON.stringify(value);
  });
}

function lookup(record: unknown, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function textSplitOf(option: string): TextSplit {
  if (option === 'paragraphs' || option === 'lines' || option === 'whole') return { kind: option };
  return { kind: 'separator', separator: option.replace(/\\n/g, '\n') };
}

export function customDefinition(options: CustomOptions): DatasetDefinition {
  const template = options.template;
  const sourceOf = (name: string) => options.fields[name] ?? name;

  const pick = (raw: unknown, names: string[], location: RecordLocation): Fields => {
    const record = asObject(raw, location);
    const fields: Fields = {};
    for (const name of names) {
      const value = lookup(record, sourceOf(name));
      if (value === undefined || value === null) {
        const present = Object.keys(record).slice(0, 12).join(', ');
        throw invalid(location, `missing field "${sourceOf(name)}" for template placeholder {${name}} (fields present: ${present}); map it with fields`);
      }
      fields[name] = value;
    }
    return fields;
  };

  if (template === undefined) {
    return {
      name: 'custom',
      description: 'A local file used as a pre-training corpus',
      family: 'custom',
      layout: { folders: [] },
      read: { textSplit: textSplitOf(options.textSplit) },
      normalize: (raw, location) => [typeof raw === 'string' ? { text: raw } : { text: String(pick(raw, [options.textField], location)[options.textField]) }],
      splits: { calibration: 'train', evaluation: null },
      formats: ['window'],
      text: (fields) => fields.text as string,
    };
  }

  const names = placeholders(template);
  const answerAt = template.indexOf('{answer}');
  const promptPart = answerAt >= 0 ? template.slice(0, answerAt) : template;
  const answerPart = answerAt >= 0 ? template.slice(answerAt) : '';
  const formats: CalibrationFormat[] = ['zero', 'single', 'icl'];
  if (options.rationaleField !== undefined) formats.push('cot');
  if (names.length === 0) throw new UsageError(`the custom template ${JSON.stringify(template)} has no {field} placeholder`);

  return {
    name: 'custom',
    description: 'A local file of question-answer records rendered through a template',
    family: 'custom',
    layout: { folders: [] },
    read: { textSplit: textSplitOf(options.textSplit) },
    normalize: (raw, location) => {
      const fields = pick(raw, names, location);
      if (options.rationaleField !== undefined) {
        const rationale = lookup(asObject(raw, location), options.rationaleField);
        if (typeof rationale === 'string') fields.__rationale = rationale;
      }
      return [fields];
    },
    splits: { calibration: 'train', evaluation: 'test' },
    formats,
    templates: {
      prompt: (fields) => renderTemplate(promptPart, fields),
      answer: (fields) => renderTemplate(answerPart, fields),
      rationale: (fields) => (typeof fields.__rationale === 'string' ? fields.__rationale : undefined),
      id: (_fields, index) => `custom-${index}`,
    },
  };
}
