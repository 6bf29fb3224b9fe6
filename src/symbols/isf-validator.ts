import { VmsightError } from '../core/index.js';

/** One rule an ISF breaks, with the JSON path of the offending value (`$.user_types.task_struct…`). */
export interface IsfProblem {
  readonly path: string;
  readonly message: string;
}

export interface IsfValidateOptions {
  /** Problems reported at most (the rest are counted only). Default 50. */
  readonly maxProblems?: number;
}

/*
 * What Volatility 3 (volatility3/schemas/__init__.py and symbols/intermed.py, checked at commit
 * a1961401 of October 2024) demands before it uses an ISF, written down as vmsight's own checks:
 * - the file is validated against `schemas/schema-<metadata.format>.json`: a format without a
 *   schema file is rejected;
 * - the reader is the highest `ISFormatTable` whose major equals the format's and whose minor is at
 *   least the format's (readers exist for 6.0.0, 6.1.0 and 6.2.0);
 * - the 6.x schemas: exactly the keys metadata, base_types, user_types, enums, symbols; no
 *   undeclared property anywhere; metadata holds format, producer and at most one of windows, linux
 *   or mac; Linux/Mac sources are dwarf, symtab or system-map files hashed with sha256; producer
 *   version x.y.z (required from 6.3.0); the type descriptor kinds and their members below;
 * - intermed.py's native table takes every base type but void by kind (void, int, float, char,
 *   bool), size, endianness and signedness, and needs a "pointer" base type for pointers.
 * Beyond the schema, a descriptor that names a type must name one the file defines, as Volatility
 * fails on the first use of an undefined type; only a struct, union or class reached through a
 * pointer may be undefined (C's incomplete types, which dwarf2json's files hold too).
 */
const SCHEMA_FORMATS = new Set(['6.0.0', '6.1.0', '6.2.0', '6.3.0']);
const READER_MINORS: Readonly<Record<number, number>> = { 6: 2 };
const TOP_KEYS = ['metadata', 'base_types', 'user_types', 'enums', 'symbols'] as const;
const BASE_KINDS = new Set(['void', 'int', 'float', 'char', 'bool']);
const USER_KINDS = new Set(['struct', 'union', 'class']);
const SOURCE_KINDS = new Set(['dwarf', 'symtab', 'system-map']);
const SEMVER = /^\d+\.\d+\.\d+$/;
const HEX = /^[a-fA-F0-9]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Descriptors nest a few levels (pointer to array of pointers…); deeper is a crafted file. */
const MAX_DEPTH = 64;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** parseIsfJson() keeps 16+ digit JSON integers exact as bigint or as their digit string. */
const BIG_INTEGER_TEXT = /^-?\d{16,}$/;
const isInteger = (value: unknown): boolean =>
  (typeof value === 'number' && Number.isInteger(value)) ||
  typeof value === 'bigint' ||
  (typeof value === 'string' && BIG_INTEGER_TEXT.test(value));
/** A JSON path step: `.name` for identifiers, `["…"]` otherwise. */
const step = (path: string, key: string): string =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

class Checker {
  readonly problems: IsfProblem[] = [];
  count = 0;
  readonly #max: number;
  #doc: Json = {};

  constructor(max: number) {
    this.#max = max;
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

  document(doc: unknown): void {
    if (!this.shape('$', doc, TOP_KEYS, [])) return;
    this.#doc = doc as Json;
    this.metadata(this.#doc['metadata']);
    for (const key of TOP_KEYS.slice(1)) {
      if (Object.hasOwn(this.#doc, key) && !isObject(this.#doc[key])) {
        this.fail(`$.${key}`, 'must be an object');
      }
    }
    this.baseTypes();
    this.userTypes();
    this.enums();
    this.symbols();
  }

  metadata(metadata: unknown): void {
    const path = '$.metadata';
    if (!this.shape(path, metadata, ['format'], ['producer', 'windows', 'linux', 'mac'])) return;
    const meta = metadata as Json;
    const format = meta['format'];
    this.string(`${path}.format`, format, /^6\.\d+\.\d+$/);
    if (typeof format === 'string' && /^6\.\d+\.\d+$/.test(format)) {
      const [major = 0, minor = 0] = format.split('.').map(Number);
      if (!SCHEMA_FORMATS.has(format)) {
        this.fail(`${path}.format`, `Volatility 3 has no schema for format ${format}`);
      } else if ((READER_MINORS[major] ?? -1) < minor) {
        this.fail(`${path}.format`, `Volatility 3 has no reader for format ${format}`);
      }
    }
    const strictProducer = format === '6.3.0';
    if (Object.hasOwn(meta, 'producer')) {
      const producer = meta['producer'];
      const p = `${path}.producer`;
      if (this.shape(p, producer, ['name', 'version'], ['datetime'])) {
        const value = producer as Json;
        this.string(`${p}.name`, value['name']);
        this.string(`${p}.version`, value['version'], strictProducer ? SEMVER : undefined);
        if (Object.hasOwn(value, 'datetime')) {
          const datetime = value['datetime'];
          this.string(`${p}.datetime`, datetime);
          if (typeof datetime === 'string' && Number.isNaN(Date.parse(datetime))) {
            this.fail(`${p}.datetime`, 'is not an RFC 3339 date-time');
          }
        }
      }
    } else if (strictProducer) this.fail(`${path}.producer`, 'is missing');
    const platforms = ['windows', 'linux', 'mac'].filter((key) => Object.hasOwn(meta, key));
    if (platforms.length > 1) {
      this.fail(path, `holds ${platforms.join(' and ')}: at most one platform is allowed`);
    }
    for (const key of ['linux', 'mac']) {
      if (!Object.hasOwn(meta, key)) continue;
      const p = `${path}.${key}`;
      if (!this.shape(p, meta[key], [], ['symbols', 'types'])) continue;
      const nix = meta[key] as Json;
      for (const list of ['symbols', 'types']) {
        if (!Object.hasOwn(nix, list)) continue;
        const items = nix[list];
        if (!Array.isArray(items)) {
          this.fail(`${p}.${list}`, 'must be an array');
          continue;
        }
        items.forEach((item: unknown, i) => this.source(`${p}.${list}[${i}]`, item));
      }
    }
    if (Object.hasOwn(meta, 'windows')) this.windows(`${path}.windows`, meta['windows']);
  }

  source(path: string, item: unknown): void {
    if (!this.shape(path, item, [], ['kind', 'name', 'hash_type', 'hash_value'])) return;
    const value = item as Json;
    if (Object.hasOwn(value, 'kind') && !SOURCE_KINDS.has(value['kind'] as string)) {
      this.fail(`${path}.kind`, `"${String(value['kind'])}" is not dwarf, symtab or system-map`);
    }
    if (Object.hasOwn(value, 'name')) this.string(`${path}.name`, value['name']);
    if (Object.hasOwn(value, 'hash_type'))
      this.string(`${path}.hash_type`, value['hash_type'], /^sha256$/);
    if (Object.hasOwn(value, 'hash_value'))
      this.string(`${path}.hash_value`, value['hash_value'], HEX);
  }

  windows(path: string, windows: unknown): void {
    if (!this.shape(path, windows, [], ['pe', 'pdb'])) return;
    const value = windows as Json;
    if (Object.hasOwn(value, 'pe')) {
      const pe = value['pe'];
      if (this.shape(`${path}.pe`, pe, ['major', 'minor', 'revision'], ['build'])) {
        for (const key of Object.keys(pe as Json))
          this.integer(`${path}.pe.${key}`, (pe as Json)[key]);
      }
    }
    if (Object.hasOwn(value, 'pdb')) {
      const pdb = value['pdb'];
      if (this.shape(`${path}.pdb`, pdb, ['GUID', 'age', 'database', 'machine_type'], [])) {
        const p = pdb as Json;
        this.string(`${path}.pdb.GUID`, p['GUID']);
        this.integer(`${path}.pdb.age`, p['age']);
        this.string(`${path}.pdb.database`, p['database']);
        this.integer(`${path}.pdb.machine_type`, p['machine_type']);
      }
    }
  }

  #section(key: string): Json {
    const value = this.#doc[key];
    return isObject(value) ? value : {};
  }

  /** Each entry of a top-level section that has the required shape, with its path. */
  *#entries(
    key: string,
    required: readonly string[],
    optional: readonly string[],
  ): Generator<[string, Json]> {
    const section = this.#section(key);
    for (const name of Object.keys(section)) {
      const path = step(`$.${key}`, name);
      if (this.shape(path, section[name], required, optional)) yield [path, section[name] as Json];
    }
  }

  baseTypes(): void {
    const types = this.#section('base_types');
    for (const [path, value] of this.#entries(
      'base_types',
      ['size', 'kind', 'signed', 'endian'],
      [],
    )) {
      this.integer(`${path}.size`, value['size']);
      if (!BASE_KINDS.has(value['kind'] as string)) {
        this.fail(
          `${path}.kind`,
          `"${String(value['kind'])}" is not void, int, float, char or bool`,
        );
      }
      if (typeof value['signed'] !== 'boolean') this.fail(`${path}.signed`, 'must be a boolean');
      if (value['endian'] !== 'little' && value['endian'] !== 'big') {
        this.fail(`${path}.endian`, `"${String(value['endian'])}" is not little or big`);
      }
    }
    if (Object.keys(this.#section('user_types')).length > 0 && !Object.hasOwn(types, 'pointer')) {
      this.fail('$.base_types.pointer', 'is missing: Volatility 3 sizes pointers by it');
    }
  }

  userTypes(): void {
    for (const [path, value] of this.#entries('user_types', ['kind', 'size', 'fields'], [])) {
      if (!USER_KINDS.has(value['kind'] as string)) {
        this.fail(`${path}.kind`, `"${String(value['kind'])}" is not struct, union or class`);
      }
      this.integer(`${path}.size`, value['size']);
      const fields = value['fields'];
      if (!isObject(fields)) {
        this.fail(`${path}.fields`, 'must be an object');
        continue;
      }
      for (const fieldName of Object.keys(fields)) {
        const p = step(`${path}.fields`, fieldName);
        const field = fields[fieldName];
        if (!this.shape(p, field, ['type', 'offset'], ['anonymous'])) continue;
        const f = field as Json;
        this.integer(`${p}.offset`, f['offset']);
        if (Object.hasOwn(f, 'anonymous') && typeof f['anonymous'] !== 'boolean') {
          this.fail(`${p}.anonymous`, 'must be a boolean');
        }
        this.descriptor(`${p}.type`, f['type'], 0);
        // intermed.py (6.2.0 reader) flattens an anonymous member through its type's own fields.
        const kind = isObject(f['type']) ? f['type']['kind'] : undefined;
        if (f['anonymous'] === true && !USER_KINDS.has(kind as string)) {
          this.fail(`${p}.type.kind`, 'an anonymous member must be a struct, union or class');
        }
      }
    }
  }

  enums(): void {
    const bases = this.#section('base_types');
    for (const [path, e] of this.#entries('enums', ['size', 'base', 'constants'], [])) {
      this.integer(`${path}.size`, e['size']);
      this.string(`${path}.base`, e['base']);
      if (typeof e['base'] === 'string' && !Object.hasOwn(bases, e['base'])) {
        this.fail(`${path}.base`, `names base type "${e['base']}", which is not defined`);
      }
      const constants = e['constants'];
      if (!isObject(constants)) this.fail(`${path}.constants`, 'must be an object');
      else {
        for (const key of Object.keys(constants)) {
          this.integer(step(`${path}.constants`, key), constants[key], -Infinity);
        }
      }
    }
  }

  symbols(): void {
    const symbols = this.#section('symbols');
    for (const name of Object.keys(symbols)) {
      const path = step('$.symbols', name);
      const value = symbols[name];
      if (!this.shape(path, value, ['address'], ['linkage_name', 'type', 'constant_data']))
        continue;
      const s = value as Json;
      const address = s['address'];
      if (!isInteger(address)) this.fail(`${path}.address`, 'must be a number');
      if (Object.hasOwn(s, 'linkage_name')) this.string(`${path}.linkage_name`, s['linkage_name']);
      if (Object.hasOwn(s, 'type')) this.descriptor(`${path}.type`, s['type'], 0);
      if (Object.hasOwn(s, 'constant_data')) {
        this.string(`${path}.constant_data`, s['constant_data'], BASE64);
      }
    }
  }

  /** One type descriptor (schema `type_descriptor`), and that the type it names is defined. */
  descriptor(path: string, value: unknown, depth: number, behindPointer = false): void {
    if (depth > MAX_DEPTH) {
      this.fail(path, `nests deeper than ${MAX_DEPTH} levels`);
      return;
    }
    if (!isObject(value)) {
      this.fail(path, 'must be an object');
      return;
    }
    const kind = value['kind'];
    const named = (section: string, what: string, opaqueAllowed = false): void => {
      if (!this.shape(path, value, ['kind', 'name'], [])) return;
      const name = value['name'];
      this.string(`${path}.name`, name);
      // C's incomplete types (`struct genradix_root *`): only pointed to, never laid out.
      if (opaqueAllowed && behindPointer) return;
      if (typeof name === 'string' && !Object.hasOwn(this.#section(section), name)) {
        this.fail(`${path}.name`, `names ${what} "${name}", which is not defined in ${section}`);
      }
    };
    switch (kind) {
      case 'base':
        named('base_types', 'base type');
        return;
      case 'struct':
      case 'union':
      case 'class':
        named('user_types', kind, true);
        return;
      case 'enum':
        named('enums', 'enum');
        return;
      case 'function':
        this.shape(path, value, ['kind'], []);
        return;
      case 'pointer':
        if (!this.shape(path, value, ['kind', 'subtype'], ['base'])) return;
        if (Object.hasOwn(value, 'base')) this.string(`${path}.base`, value['base']);
        this.descriptor(`${path}.subtype`, value['subtype'], depth + 1, true);
        return;
      case 'array':
        if (!this.shape(path, value, ['kind', 'subtype', 'count'], [])) return;
        this.integer(`${path}.count`, value['count']);
        this.descriptor(`${path}.subtype`, value['subtype'], depth + 1, behindPointer);
        return;
      case 'bitfield': {
        if (!this.shape(path, value, ['kind', 'bit_position', 'bit_length', 'type'], [])) return;
        this.integer(`${path}.bit_position`, value['bit_position']);
        this.integer(`${path}.bit_length`, value['bit_length'], 1);
        const inner = value['type'];
        const innerKind = isObject(inner) ? inner['kind'] : undefined;
        if (innerKind !== 'base' && innerKind !== 'enum') {
          this.fail(`${path}.type.kind`, 'a bitfield holds a base or enum type');
        } else this.descriptor(`${path}.type`, inner, depth + 1);
        return;
      }
      default:
        this.fail(
          `${path}.kind`,
          `"${String(kind)}" is not base, struct, union, class, enum, pointer, array, bitfield or function`,
        );
    }
  }
}

/**
 * Checks a parsed ISF document (plain JSON values; addresses may be bigint) against the rules
 * Volatility 3 applies before it loads one. Returns the problems, each with its JSON path; an empty
 * list means Volatility 3 accepts the file.
 *
 * @example
 * ```ts
 * import { validateIsf } from './isf-validator.js';
 * declare const isf: unknown;
 * for (const { path, message } of validateIsf(isf)) console.log(`${path}: ${message}`);
 * ```
 */
export function validateIsf(doc: unknown, options: IsfValidateOptions = {}): IsfProblem[] {
  const checker = new Checker(options.maxProblems ?? 50);
  checker.document(doc);
  return checker.problems;
}

/** Throws `INVALID_INPUT` naming the first problems when `doc` is not an ISF Volatility 3 accepts. */
export function assertValidIsf(doc: unknown, what = 'ISF'): void {
  const checker = new Checker(5);
  checker.document(doc);
  if (checker.count === 0) return;
  const listed = checker.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw new VmsightError(
    'INVALID_INPUT',
    `${what} is not an ISF that Volatility 3 accepts (${checker.count} problems): ${listed}`,
    { details: { problems: checker.problems } },
  );
}
