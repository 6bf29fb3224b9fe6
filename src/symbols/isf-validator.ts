import { VmsightError } from '../core/index.js';
import { IsfChecker, isObject, type IsfProblem, type Json } from './isf-checker.js';
import { checkMetadata } from './isf-metadata-validator.js';
import { checkSymbols } from './isf-symbol-validator.js';
import { checkBaseTypes, checkEnums, checkUserTypes } from './isf-type-validator.js';

export type { IsfProblem } from './isf-checker.js';

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
 *   version x.y.z (required from 6.3.0); the type descriptor kinds and their members;
 * - intermed.py's native table takes every base type but void by kind (void, int, float, char,
 *   bool), size, endianness and signedness, and needs a "pointer" base type for pointers.
 * Beyond the schema, a descriptor that names a type must name one the file defines, as Volatility
 * fails on the first use of an undefined type; only a struct, union or class reached through a
 * pointer may be undefined (C's incomplete types, which dwarf2json's files hold too).
 * One file a section: isf-metadata-validator.ts, isf-type-validator.ts (base_types, user_types,
 * enums), isf-symbol-validator.ts, and isf-descriptor-validator.ts for type descriptors.
 */
const TOP_KEYS = ['metadata', 'base_types', 'user_types', 'enums', 'symbols'] as const;

function checkDocument(checker: IsfChecker, doc: unknown): void {
  if (!checker.shape('$', doc, TOP_KEYS, [])) return;
  const top = doc as Json;
  checker.setDocument(top);
  checkMetadata(checker, top['metadata']);
  for (const key of TOP_KEYS.slice(1)) {
    if (Object.hasOwn(top, key) && !isObject(top[key])) {
      checker.fail(`$.${key}`, 'must be an object');
    }
  }
  checkBaseTypes(checker);
  checkUserTypes(checker);
  checkEnums(checker);
  checkSymbols(checker);
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
  const checker = new IsfChecker(options.maxProblems ?? 50);
  checkDocument(checker, doc);
  return checker.problems;
}

/** Throws `INVALID_INPUT` naming the first problems when `doc` is not an ISF Volatility 3 accepts. */
export function assertValidIsf(doc: unknown, what = 'ISF'): void {
  const checker = new IsfChecker(5);
  checkDocument(checker, doc);
  if (checker.count === 0) return;
  const listed = checker.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw new VmsightError(
    'INVALID_INPUT',
    `${what} is not an ISF that Volatility 3 accepts (${checker.count} problems): ${listed}`,
    { details: { problems: checker.problems } },
  );
}
