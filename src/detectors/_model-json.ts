/**
 * Reading model JSON defensively. A model file is untrusted input: it may be truncated, edited or
 * crafted, so every field is checked for type and range, every array length is bounded before it
 * is allocated, and objects are read only through own properties (a "__proto__" key cannot reach a
 * prototype). Failures are MODEL_INVALID errors naming the field.
 */
import { VmsightError } from '../core/index.js';
import type { ParameterChoice } from './detector.js';

/** Longest string (parameter names, provenance notes) a model file may carry. */
export const MAX_MODEL_STRING_LENGTH = 1000;

export type JsonObject = Readonly<Record<string, unknown>>;

/** Bounds applied while reading a model from untrusted JSON. */
export interface ModelReadLimits {
  /** Most n-grams one n-gram table may hold (default 20 million). */
  readonly maxNgrams?: number;
}

export function invalid(path: string, problem: string): VmsightError {
  return new VmsightError('MODEL_INVALID', `Model field "${path}" ${problem}`, {
    details: { field: path },
  });
}

export function readObject(value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(path, 'must be an object');
  }
  return value as JsonObject;
}

export function field(object: JsonObject, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

export function readInteger(
  value: unknown,
  path: string,
  range: { readonly min: number; readonly max: number },
): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalid(path, 'must be an integer');
  }
  if (value < range.min || value > range.max) {
    throw invalid(path, `must be from ${range.min} to ${range.max}, got ${value}`);
  }
  return value;
}

export function readNumber(
  value: unknown,
  path: string,
  range: { readonly min: number; readonly max: number } = { min: -Infinity, max: Infinity },
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(path, 'must be a finite number');
  }
  if (value < range.min || value > range.max) {
    throw invalid(path, `must be from ${range.min} to ${range.max}, got ${value}`);
  }
  return value;
}

export function readString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(path, 'must be a string');
  if (value.length > MAX_MODEL_STRING_LENGTH) {
    throw invalid(path, `is longer than ${MAX_MODEL_STRING_LENGTH} characters`);
  }
  return value;
}

export function readArray(value: unknown, path: string, maxLength: number): readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(path, 'must be an array');
  if (value.length > maxLength) throw invalid(path, `has more than ${maxLength} items`);
  return value;
}

/** `undefined` when the field is absent or null, otherwise a finite number. */
export function readOptionalNumber(value: unknown, path: string): number | undefined {
  return value === undefined || value === null ? undefined : readNumber(value, path);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Little-endian uint32 array, base64-encoded: compact and exact for large count tables. */
export function encodeUint32(values: Uint32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i] ?? 0, true);
  return Buffer.from(bytes).toString('base64');
}

export function readUint32Array(value: unknown, path: string, maxLength: number): Uint32Array {
  if (typeof value !== 'string') throw invalid(path, 'must be a base64 string');
  // Checked before decoding: Buffer.from skips characters it does not know, which would let a
  // corrupted table decode to a shorter, wrong one.
  if (value.length % 4 !== 0 || !BASE64.test(value)) {
    throw invalid(path, 'is not valid base64');
  }
  const byteLength =
    (value.length / 4) * 3 - (value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0);
  if (byteLength % 4 !== 0) throw invalid(path, 'does not hold whole 32-bit values');
  if (byteLength / 4 > maxLength) throw invalid(path, `has more than ${maxLength} values`);
  const bytes = Buffer.from(value, 'base64');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Uint32Array(bytes.byteLength / 4);
  for (let i = 0; i < values.length; i++) values[i] = view.getUint32(i * 4, true);
  return values;
}

/** Most parameter records a model may carry (an ensemble carries its members' too). */
export const MAX_PARAMETERS = 64;

export function readParameters(value: unknown, path: string): readonly ParameterChoice[] {
  return readArray(value, path, MAX_PARAMETERS).map((item, i) => {
    const object = readObject(item, `${path}[${i}]`);
    const raw = field(object, 'value');
    const value =
      typeof raw === 'number'
        ? readNumber(raw, `${path}[${i}].value`)
        : readString(raw, `${path}[${i}].value`);
    return {
      name: readString(field(object, 'name'), `${path}[${i}].name`),
      value,
      chosenBy: readString(field(object, 'chosenBy'), `${path}[${i}].chosenBy`),
    };
  });
}
