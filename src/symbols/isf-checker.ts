/** One rule an ISF breaks, with the JSON path of the offending value (`$.user_types.task_struct…`). */
export interface IsfProblem {
  readonly path: string;
  readonly message: string;
}

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** parseIsfJson() keeps 16+ digit JSON integers exact as bigint or as their digit string. */
const BIG_INTEGER_TEXT = /^-?\d{16,}$/;
export const isInteger = (value: unknown): boolean =>
  (typeof value === 'number' && Number.isInteger(value)) ||
  typeof value === 'bigint' ||
  (typeof value === 'string' && BIG_INTEGER_TEXT.test(value));
/** A JSON path step: `.name` for identifiers, `["…"]` otherwise. */
export const step = (path: string, key: string): string =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

/**
 * What the ISF section validators share: the problems found so far (at most `max` kept, all
 * counted), the schema's primitive checks, and the document's top-level sections.
 */
export class IsfChecker {
  readonly problems: IsfProblem[] = [];
  count = 0;
  readonly #max: number;
  #doc: Json = {};

  constructor(max: number) {
    this.#max = max;
  }

  /** The document whose sections `section()` and `entries()` read. */
  setDocument(doc: Json): void {
    this.#doc = doc;
  }

  fail(path: string, message: string): void {
    this.count += 1;
    if (this.problems.length < this.#max) this.problems.push({ path, message });
  }

  /** Reports members outside `allowed` and missing `required` ones; false when `value` is no object. */
  shape(path: string, value: unknown, required: readonly string[], optional: readonly string[]) {
    if (!isObject(value)) {
      this.fail(path, 'must be an object');
      return false;
    }
    for (const key of required)
      if (!Object.hasOwn(value, key)) this.fail(step(path, key), 'is missing');
    for (const key of Object.keys(value)) {
      if (!required.includes(key) && !optional.includes(key)) {
        this.fail(step(path, key), 'is not a property Volatility 3 allows here');
      }
    }
    return true;
  }

  /** Values are checked when present; shape() reports the missing ones. */
  integer(path: string, value: unknown, min = 0): void {
    if (value === undefined) return;
    if (!isInteger(value)) this.fail(path, 'must be an integer');
    else if (min !== -Infinity && BigInt(value as number | bigint | string) < BigInt(min)) {
      this.fail(path, `must be at least ${min}`);
    }
  }

  string(path: string, value: unknown, pattern?: RegExp): void {
    if (value === undefined) return;
    if (typeof value !== 'string') this.fail(path, 'must be a string');
    else if (pattern !== undefined && !pattern.test(value)) {
      this.fail(path, `"${value.slice(0, 80)}" does not match ${String(pattern)}`);
    }
  }

  /** A top-level section of the document, or an empty one when it is missing or no object. */
  section(key: string): Json {
    const value = this.#doc[key];
    return isObject(value) ? value : {};
  }

  /** Each entry of a top-level section that has the required shape, with its path. */
  *entries(
    key: string,
    required: readonly string[],
    optional: readonly string[],
  ): Generator<[string, Json]> {
    const section = this.section(key);
    for (const name of Object.keys(section)) {
      const path = step(`$.${key}`, name);
      if (this.shape(path, section[name], required, optional)) yield [path, section[name] as Json];
    }
  }
}
