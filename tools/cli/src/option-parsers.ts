/** Value parsers for command options, shared by every command so flags are validated and reported alike. */
import { UsageError } from '@sculpt/core';

/** Returns a commander parser that accepts only a positive safe integer for the option `name`. */
export function positiveInteger(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number <= 0) {
      throw new UsageError(`${name} must be a positive integer, got "${value}"`);
    }
    return number;
  };
}

/** Appends a repeated option's value to the values seen so far. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses repeated `key=value` flags; values that parse as JSON (numbers, booleans, lists) are used as such. */
export function parseKeyValues(pairs: string[], flag: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`${flag} expects key=value, got "${pair}"`);
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep the text.
    }
    result[pair.slice(0, at)] = value;
  }
  return result;
}
