import { VmsightError } from '../core/index.js';
import type { IsfDocument, IsfSymbol } from './isf-types.js';

/*
 * ISF addresses are JSON integers up to 2^64, past a double's 53-bit mantissa: JSON.parse would
 * round 0xffffffff82a1aa40 to a multiple of 2048. Node 20's JSON.parse has no source-text access,
 * so integer literals of 16+ digits that follow a colon are quoted before parsing (ISF strings are
 * identifiers and base64, which hold no `: digits` sequence) and turned into bigint after.
 */
const BIG_LITERAL = /:(\s*)(-?\d{16,})(?=\s*[,}\]])/g;
const BIG_MARK = '\u0000bigint:';
const BIG_MARK_JSON = /"\\u0000bigint:(-?\d+)"/g;

export interface IsfParseOptions {
  /** Symbols accepted at most. Default 5,000,000. */
  readonly maxSymbols?: number;
}

/** Parses JSON text with 16+ digit integers kept exact as their digit strings (for checking). */
export function parseIsfJsonValue(text: string): unknown {
  try {
    return JSON.parse(text.replace(BIG_LITERAL, ':$1"$2"'));
  } catch (error) {
    throw new VmsightError('INVALID_INPUT', 'Cannot parse ISF: the text is not JSON', {
      cause: error,
    });
  }
}

/** Parses ISF JSON text, keeping symbol addresses exact. */
export function parseIsfJson(text: string, options: IsfParseOptions = {}): IsfDocument {
  const raw = parseIsfJsonValue(text);
  if (typeof raw !== 'object' || raw === null) {
    throw new VmsightError('INVALID_INPUT', 'Cannot parse ISF: the top level is not an object');
  }
  const doc = raw as Record<string, unknown>;
  for (const key of ['metadata', 'base_types', 'user_types', 'enums', 'symbols']) {
    const value = doc[key];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot parse ISF: "${key}" is missing or not an object`,
      );
    }
  }
  const format = (doc['metadata'] as Record<string, unknown>)['format'];
  if (typeof format !== 'string' || !/^6\.\d+\.\d+$/.test(format)) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot parse ISF: format "${String(format)}" is not a 6.x version`,
    );
  }
  const symbols = doc['symbols'] as Record<string, Record<string, unknown>>;
  const maxSymbols = options.maxSymbols ?? 5_000_000;
  const names = Object.keys(symbols);
  if (names.length > maxSymbols) {
    throw new VmsightError('LIMIT_EXCEEDED', `Cannot parse ISF: more than ${maxSymbols} symbols`);
  }
  const converted: Record<string, IsfSymbol> = Object.create(null) as Record<string, IsfSymbol>;
  for (const name of names) {
    const symbol = symbols[name];
    if (typeof symbol !== 'object' || symbol === null) continue;
    const address = symbol['address'];
    let value: bigint;
    if (typeof address === 'string' && /^-?\d+$/.test(address)) value = BigInt(address);
    else if (typeof address === 'number' && Number.isSafeInteger(address)) value = BigInt(address);
    else continue;
    // The object is fresh from JSON.parse and owned here: update it in place (94k symbols).
    symbol['address'] = BigInt.asUintN(64, value);
    converted[name] = symbol as unknown as IsfSymbol;
  }
  return { ...(doc as unknown as IsfDocument), symbols: converted };
}

/** Serialises an ISF document; addresses are written as exact JSON integers. */
export function stringifyIsfJson(doc: IsfDocument): string {
  const text = JSON.stringify(doc, (_key, value: unknown) =>
    typeof value === 'bigint' ? `${BIG_MARK}${value}` : value,
  );
  return text.replace(BIG_MARK_JSON, '$1');
}
