/** Human-readable descriptions of plugin option schemas, for `sculpt plugins show` and docs. */
import { z } from 'zod';

export interface OptionDescription {
  option: string;
  /** Type with bounds or the allowed values (`number >= 0 <= 1`, `"greedy" | "sample"`). */
  type: string;
  default?: unknown;
  required: boolean;
  description?: string;
}

/**
 * Describes an options schema through the JSON Schema zod generates for its
 * input side (so defaults show). Returns a null schema when the options cannot
 * be expressed in JSON Schema.
 */
export function describeOptions(schema: z.ZodType): { jsonSchema: Record<string, unknown> | null; options: OptionDescription[] } {
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return { jsonSchema: null, options: [] };
  }
  const properties = (jsonSchema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(jsonSchema.required) ? (jsonSchema.required as string[]) : []);
  const options = Object.entries(properties).map(([option, property]) => {
    // zod bounds every integer by the safe-integer range, which tells a user nothing.
    const bound = (value: unknown) => value !== undefined && Math.abs(Number(value)) !== Number.MAX_SAFE_INTEGER;
    const bounds = [
      bound(property.minimum) ? `>= ${String(property.minimum)}` : '',
      bound(property.exclusiveMinimum) ? `> ${String(property.exclusiveMinimum)}` : '',
      bound(property.maximum) ? `<= ${String(property.maximum)}` : '',
      bound(property.exclusiveMaximum) ? `< ${String(property.exclusiveMaximum)}` : '',
    ];
    const type = Array.isArray(property.enum)
      ? property.enum.map((value) => JSON.stringify(value)).join(' | ')
      : [String(property.type ?? 'any'), ...bounds].filter(Boolean).join(' ');
    return {
      option,
      type,
      ...(property.default !== undefined ? { default: property.default } : {}),
      required: required.has(option) && property.default === undefined,
      ...(typeof property.description === 'string' ? { description: property.description } : {}),
    };
  });
  return { jsonSchema, options };
}
