/**
 * Pulls the worked examples out of a problem statement, in the layouts APPS
 * and CodeContests use:
 *
 *   -----Examples-----          Example            -----Sample Input 1-----
 *   Input                       (blank)            3
 *   3                           Input              -----Sample Output 1-----
 *   Output                      (blank)            6
 *   6                           3 ...
 *
 * The text before the examples section is the description given to the model.
 */
import type { IoExample } from './types.js';

export interface ParsedStatement {
  /** The statement without its examples and the notes after them. */
  description: string;
  examples: IoExample[];
}

/** Strips an APPS-style `-----Title-----` frame and surrounding spaces. */
function headerText(line: string): string {
  return line.trim().replace(/^-{3,}\s*/u, '').replace(/\s*-{3,}$/u, '').trim();
}

const SECTION_START = /^(examples?|sample tests?|sample input(\s*\d+)?)$/iu;
const INPUT_HEADER = /^(sample\s+)?input(\s*\d+)?:?$/iu;
const OUTPUT_HEADER = /^(sample\s+)?output(\s*\d+)?:?$/iu;
const SECTION_END = /^(notes?|explanation|note \d+)$/iu;

function blockText(lines: string[]): string {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start].trim() === '') start++;
  while (end > start && lines[end - 1].trim() === '') end--;
  return lines.slice(start, end).join('\n') + '\n';
}

export function parseStatement(statement: string): ParsedStatement {
  const lines = statement.replace(/\r\n/gu, '\n').split('\n');
  const start = lines.findIndex((line) => SECTION_START.test(headerText(line)));
  if (start < 0) return { description: statement.trim(), examples: [] };

  // A "Sample Input" header both opens the section and starts the first input block.
  const firstIsInput = INPUT_HEADER.test(headerText(lines[start]));
  const description = lines.slice(0, start).join('\n').trim();
  const inputs: string[] = [];
  const outputs: string[] = [];
  let mode: 'input' | 'output' | undefined;
  let block: string[] = [];
  const flush = (): void => {
    if (mode === 'input') inputs.push(blockText(block));
    if (mode === 'output') outputs.push(blockText(block));
    block = [];
  };

  for (let index = firstIsInput ? start : start + 1; index < lines.length; index++) {
    const line = lines[index];
    const header = headerText(line);
    const framed = /^\s*-{3,}.*-{3,}\s*$/u.test(line);
    if (INPUT_HEADER.test(header)) {
      flush();
      mode = 'input';
    } else if (OUTPUT_HEADER.test(header)) {
      flush();
      mode = 'output';
    } else if (SECTION_END.test(header) || (framed && !INPUT_HEADER.test(header))) {
      break;
    } else {
      block.push(line);
    }
  }
  flush();

  const count = Math.min(inputs.length, outputs.length);
  const examples = Array.from({ length: count }, (_, index) => ({ input: inputs[index], output: outputs[index] }));
  return { description, examples };
}
