/**
 * External chain-of-thought rationales in the distilling-step-by-step layout
 * (google-research/distilling-step-by-step, `datasets/<name>/`):
 * `<name>_<split>.json` contains the records as JSON lines and
 * `llm/<split>_CoT_<k>.json` (or `<split>_CoT.json`) contains a JSON list of
 * LLM rationales, element i belonging to record i.
 *
 * The LLM strings run on past the rationale (the model kept generating
 * further questions) and end with its own answer sentence; `cleanRationale`
 * keeps the first line without that sentence, because the CoT template
 * appends "So the answer is {gold}." itself.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '@sculpt/core';
import { readRecords } from '../io/read-records.js';

const DATA_FILE = /^[a-z0-9]+_(train|valid|test)(\.sample)?\.json$/i;
const COT_FILE = /^(train|valid|test)_CoT(_(\d+))?(\.sample)?\.json$/i;

/** Reduces an LLM rationale to its reasoning: the first line, without a trailing answer sentence. */
export function cleanRationale(raw: string): string {
  const text = raw.split('\n')[0].trim();
  let cut = -1;
  for (const match of text.matchAll(/(So )?the answer is\b/gi)) cut = match.index;
  return (cut >= 0 ? text.slice(0, cut) : text).trim();
}

async function listFolder(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch {
    return [];
  }
}

/** Maps join keys to cleaned rationales for every split found in the folder (and its `llm/` subfolder). */
export async function loadExternalRationales(
  folder: string,
  keyOf: (raw: Record<string, unknown>) => string | undefined,
): Promise<Map<string, string>> {
  const byKey = new Map<string, string>();
  const names = await listFolder(folder);
  const llmNames = (await listFolder(join(folder, 'llm'))).map((name) => `llm/${name}`);

  for (const dataName of names.filter((name) => DATA_FILE.test(name)).sort()) {
    const split = DATA_FILE.exec(dataName)![1].toLowerCase();
    const cotFiles = [...names, ...llmNames]
      .filter((name) => {
        const match = COT_FILE.exec(name.replace(/^llm\//, ''));
        return match !== null && match[1].toLowerCase() === split;
      })
      .sort((a, b) => partNumber(a) - partNumber(b));
    if (cotFiles.length === 0) continue;

    const rationales: string[] = [];
    for (const cotName of cotFiles) {
      for await (const raw of readRecords(join(folder, cotName), { format: 'json' })) {
        if (typeof raw.value !== 'string') {
          throw new InputError(`element ${raw.index} is not a string; a rationale file is a JSON list of strings`, join(folder, cotName));
        }
        rationales.push(raw.value);
      }
    }

    const dataPath = join(folder, dataName);
    let position = 0;
    for await (const raw of readRecords(dataPath, { format: 'jsonl' })) {
      if (position >= rationales.length) break;
      const key = typeof raw.value === 'object' && raw.value !== null ? keyOf(raw.value as Record<string, unknown>) : undefined;
      const rationale = cleanRationale(rationales[position]);
      if (key !== undefined && rationale !== '') byKey.set(key, rationale);
      position++;
    }
  }
  return byKey;
}

function partNumber(name: string): number {
  const match = COT_FILE.exec(name.replace(/^llm\//, ''));
  return match?.[3] === undefined ? 0 : Number(match[3]);
}

/** Collapses whitespace so keys built from differently formatted copies of a question match. */
export function normalizeKey(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
