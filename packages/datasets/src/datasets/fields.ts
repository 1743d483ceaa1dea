/** Field access with errors that name the field, the file and the line. */
import { InputError } from '@sculpt/core';

/** Location of a raw record in its file. */
export interface RecordLocation {
  file: string;
  index: number;
  line?: number;
}

function where(location: RecordLocation): string {
  return location.line !== undefined ? `line ${location.line}` : `record ${location.index}`;
}

export function asObject(raw: unknown, location: RecordLocation): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(`${where(location)}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`, location.file);
  }
  return raw as Record<string, unknown>;
}

/** Returns the first of `names` present in the record; throws when none is. */
export function field(record: Record<string, unknown>, names: string | readonly string[], location: RecordLocation): unknown {
  const list = typeof names === 'string' ? [names] : names;
  for (const name of list) {
    if (record[name] !== undefined && record[name] !== null) return record[name];
  }
  const present = Object.keys(record).slice(0, 12).join(', ');
  throw new InputError(
    `${where(location)}: missing field ${list.map((name) => `"${name}"`).join(' or ')} (fields present: ${present || 'none'}); ` +
      'check that the file is this dataset in a supported layout, or map the fields with the custom dataset',
    location.file,
  );
}

export function textField(record: Record<string, unknown>, names: string | readonly string[], location: RecordLocation): string {
  const value = field(record, names, location);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  const name = typeof names === 'string' ? names : names.join('/');
  throw new InputError(`${where(location)}: field "${name}" must be a string, got ${JSON.stringify(value)?.slice(0, 80)}`, location.file);
}

export function listField(record: Record<string, unknown>, names: string | readonly string[], location: RecordLocation): unknown[] {
  const value = field(record, names, location);
  if (Array.isArray(value)) return value;
  const name = typeof names === 'string' ? names : names.join('/');
  throw new InputError(`${where(location)}: field "${name}" must be a list, got ${JSON.stringify(value)?.slice(0, 80)}`, location.file);
}

export function invalid(location: RecordLocation, message: string): InputError {
  return new InputError(`${where(location)}: ${message}`, location.file);
}
