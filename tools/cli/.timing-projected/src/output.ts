/**
 * Prints a command's result: one JSON document on stdout with --json, or a
 * human-readable form (a table for a list of records, `key: value` lines for
 * a record, the text itself for a string).
 */

export interface OutputOptions {
  json: boolean;
  /** Column order for tables; defaults to the keys of the first row. */
  columns?: string[];
  /** Text printed instead of the default rendering (the JSON form is unchanged). */
  human?: string;
  stream?: NodeJS.WritableStream;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return JSON.stringify(value);
}

/** Aligns rows of records into columns under a header line. */
export function formatTable(rows: readonly Record<string, unknown>[], columns?: string[]): string {
  if (rows.length === 0) return '(none)';
  const keys = columns ?? Object.keys(rows[0]);
  const text = rows.map((row) => keys.map((key) => cell(row[key])));
  const widths = keys.map((key, i) => Math.max(key.length, ...text.map((line) => line[i].length)));
  const render = (line: string[]) => line.map((value, i) => (i === line.length - 1 ? value : value.padEnd(widths[i]))).join('  ').trimEnd();
  return [render(keys.map((key) => key.toUpperCase())), ...text.map(render)].join('\n');
}

/** Renders a record as aligned `key: value` lines. */
export function formatRecord(record: Record<string, unknown>): string {
  const width = Math.max(0, ...Object.keys(record).map((key) => key.length));
  return Object.entries(record)
    .map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${cell(value)}`)
    .join('\n');
}

function isRecordList(value: unknown): value is Record<string, unknown>[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item));
}

export function output(result: unknown, options: OutputOptions): void {
  const stream = options.stream ?? process.stdout;
  if (options.json) {
    stream.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  let text: string;
  if (options.human !== undefined) text = options.human;
  else if (typeof result === 'string') text = result;
  else if (isRecordList(result)) text = formatTable(result, options.columns);
  else if (typeof result === 'object' && result !== null && !Array.isArray(result)) text = formatRecord(result as Record<string, unknown>);
  else text = cell(result);
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
