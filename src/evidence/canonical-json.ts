import { VmsightError } from '../core/index.js';

/** A JSON value as vmsight signs it: no `undefined`, no non-finite numbers, no bigint. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/**
 * Serialises `value` deterministically: object keys sorted by UTF-16 code unit, no whitespace,
 * numbers as `JSON.stringify` writes them (the subset of RFC 8785 JCS that vmsight's records use:
 * integers and short strings). Two parties that hold the same record therefore hash the same bytes,
 * which is what custody hashes and manifest signatures rest on.
 *
 * @example
 * ```ts
 * import { canonicalJson } from './canonical-json.js';
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new VmsightError(
        'INVALID_ARGUMENT',
        `Cannot sign the number ${value}: it is not finite`,
      );
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${(value as readonly JsonValue[]).map(canonicalJson).join(',')}]`;
  }
  if (typeof value !== 'object') {
    throw new VmsightError('INVALID_ARGUMENT', `Cannot sign a value of type "${typeof value}"`);
  }
  const object = value as JsonObject;
  const keys = Object.keys(object).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
}

/** True when `value` is a plain JSON object (not an array or null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
