/**
 * RFC 4180 CSV: a header row names the fields, quoted fields may hold the
 * delimiter, newlines and doubled quotes. Used for the original e-SNLI files
 * and for custom datasets.
 */
import { InputError } from '@sculpt/core';

export interface CsvRow {
  fields: Record<string, string>;
  /** 1-based line on which the row starts. */
  line: number;
}

export function parseCsv(text: string, delimiter: string, file: string): CsvRow[] {
  const rows = splitRows(text, delimiter, file);
  if (rows.length === 0) throw new InputError('the CSV file has no header row', file);

  const header = rows[0].cells;
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new InputError(`duplicate column "${name}" in the header`, file);
    seen.add(name);
  }

  const out: CsvRow[] = [];
  for (const row of rows.slice(1)) {
    if (row.cells.length === 1 && row.cells[0] === '') continue;
    if (row.cells.length !== header.length) {
      throw new InputError(`line ${row.line}: ${row.cells.length} fields, but the header has ${header.length}`, file);
    }
    const fields: Record<string, string> = {};
    header.forEach((name, column) => (fields[name] = row.cells[column]));
    out.push({ fields, line: row.line });
  }
  return out;
}

function splitRows(text: string, delimiter: string, file: string): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;

  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        if (char === '\n') line++;
        cell += char;
      }
      continue;
    }

    if (char === '"' && cell === '') {
      quoted = true;
    } else if (char === delimiter) {
      cells.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      rows.push({ cells, line: rowLine });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else {
      cell += char;
    }
  }

  if (quoted) throw new InputError(`line ${rowLine}: unterminated quoted field`, file);
  if (cell !== '' || cells.length > 0) {
    cells.push(cell);
    rows.push({ cells, line: rowLine });
  }
  return rows;
}
