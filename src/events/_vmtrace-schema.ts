import type { GuestEvent } from './guest-event.js';
import {
  GuestEventType,
  IoDirection,
  MMIO_SIZES,
  PORT_IO_SIZES,
  VirtioOperation,
} from './guest-event.js';
import { inputError, type InputPosition } from './_input-error.js';
import { SYSCALL_ABIS } from './syscall-table.js';

/**
 * The vmtrace v1 event schema as data (STYLE.md habit 5): one field table per event type drives both
 * the writer and the validating reader, so the two cannot drift apart.
 */
type FieldKind =
  | { readonly kind: 'string' }
  | { readonly kind: 'uint'; readonly max: number }
  | { readonly kind: 'int32' }
  | { readonly kind: 'enum'; readonly values: readonly (string | number)[] }
  | { readonly kind: 'u64' }
  | { readonly kind: 's64' }
  | { readonly kind: 'u64-list'; readonly maxItems: number }
  | { readonly kind: 'string-list'; readonly maxItems: number }
  | { readonly kind: 'process' };

interface FieldSpec {
  readonly name: string;
  readonly type: FieldKind;
  /** May be absent from the line (an optional property). */
  readonly optional?: true;
  /** May be JSON `null` (vcpu and time when the source does not know them). */
  readonly nullable?: true;
}

const U32 = { kind: 'uint', max: 0xffff_ffff } as const;
const STRING = { kind: 'string' } as const;
const U64 = { kind: 'u64' } as const;
const DIRECTION = { kind: 'enum', values: Object.values(IoDirection) } as const;
const PROCESS = { kind: 'process' } as const;
/** Most argv strings an event carries (the sensor keeps the first ones). */
export const MAX_ARGV_ITEMS = 64;

const COMMON: readonly FieldSpec[] = [
  { name: 'type', type: { kind: 'enum', values: Object.values(GuestEventType) } },
  { name: 'vm', type: STRING },
  { name: 'vcpu', type: U32, nullable: true },
  { name: 'time', type: U64, nullable: true },
];
const OPTIONAL_PROCESS: FieldSpec = { name: 'process', type: PROCESS, optional: true };
const REQUIRED_PROCESS: FieldSpec = { name: 'process', type: PROCESS };

export const EVENT_FIELDS: Readonly<Record<GuestEventType, readonly FieldSpec[]>> = {
  syscall: [
    ...COMMON,
    OPTIONAL_PROCESS,
    { name: 'abi', type: { kind: 'enum', values: SYSCALL_ABIS } },
    { name: 'nr', type: U32 },
    { name: 'name', type: STRING, optional: true },
    // x86-64 and i386 pass at most 6 arguments in registers.
    { name: 'args', type: { kind: 'u64-list', maxItems: 6 }, optional: true },
    { name: 'returnValue', type: { kind: 's64' }, optional: true },
    { name: 'errorName', type: STRING, optional: true },
    // Arguments read from guest memory at entry (sensors' SyscallArgumentReader).
    { name: 'path', type: STRING, optional: true },
    { name: 'argv', type: { kind: 'string-list', maxItems: MAX_ARGV_ITEMS }, optional: true },
    { name: 'address', type: STRING, optional: true },
  ],
  'port-io': [
    ...COMMON,
    OPTIONAL_PROCESS,
    { name: 'port', type: { kind: 'uint', max: 0xffff } },
    { name: 'direction', type: DIRECTION },
    { name: 'size', type: { kind: 'enum', values: PORT_IO_SIZES } },
    { name: 'value', type: U32 },
  ],
  mmio: [
    ...COMMON,
    OPTIONAL_PROCESS,
    { name: 'address', type: U64 },
    { name: 'direction', type: DIRECTION },
    { name: 'size', type: { kind: 'enum', values: MMIO_SIZES } },
    { name: 'value', type: U64 },
    { name: 'region', type: STRING, optional: true },
  ],
  virtio: [
    ...COMMON,
    OPTIONAL_PROCESS,
    { name: 'device', type: STRING },
    { name: 'queue', type: U32 },
    { name: 'operation', type: { kind: 'enum', values: Object.values(VirtioOperation) } },
    { name: 'sector', type: U64, optional: true },
    { name: 'length', type: U32, optional: true },
  ],
  'context-switch': [
    ...COMMON,
    OPTIONAL_PROCESS,
    { name: 'from', type: PROCESS },
    { name: 'to', type: PROCESS },
  ],
  'process-start': [...COMMON, REQUIRED_PROCESS, { name: 'parentPid', type: U32, optional: true }],
  'process-exit': [
    ...COMMON,
    REQUIRED_PROCESS,
    { name: 'exitCode', type: { kind: 'int32' }, optional: true },
    { name: 'signal', type: STRING, optional: true },
  ],
};

const PROCESS_FIELDS: readonly FieldSpec[] = [
  { name: 'pid', type: U32 },
  { name: 'tgid', type: U32 },
  { name: 'comm', type: STRING },
  { name: 'programKey', type: STRING },
];

/** Writes a bigint the way vmtrace stores it: `0x` hex, with a leading `-` when negative. */
export function encodeBigint(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

/** Turns an event into the plain JSON-ready object of one vmtrace line, in schema field order. */
export function encodeEvent(event: GuestEvent): Record<string, unknown> {
  return encodeFields(event as unknown as Record<string, unknown>, EVENT_FIELDS[event.type]);
}

function encodeFields(
  value: Record<string, unknown>,
  fields: readonly FieldSpec[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const item = value[field.name];
    if (item === undefined) continue;
    out[field.name] = item === null ? null : encodeValue(item, field.type);
  }
  return out;
}

function encodeValue(item: unknown, type: FieldKind): unknown {
  switch (type.kind) {
    case 'u64':
    case 's64':
      return encodeBigint(item as bigint);
    case 'u64-list':
      return (item as readonly bigint[]).map(encodeBigint);
    case 'process':
      return encodeFields(item as Record<string, unknown>, PROCESS_FIELDS);
    case 'string-list':
    case 'string':
    case 'uint':
    case 'int32':
    case 'enum':
      return item;
  }
}

/** Limits on what one untrusted line may hold. */
export interface DecodeLimits {
  readonly maxStringLength: number;
}

const U64_PATTERN = /^0x[0-9a-f]{1,16}$/;
const S64_PATTERN = /^-?0x[0-9a-f]{1,16}$/;
const MAX_S64 = (1n << 63n) - 1n;
const MIN_S64 = -(1n << 63n);

/**
 * Validates one parsed vmtrace line and builds the event from known fields only. The line is
 * attacker-controlled (a recorded trace from a compromised guest or a shared file): every field is
 * type- and range-checked, and unknown fields are rejected rather than carried along, so a
 * `__proto__` or oversized key never reaches detectors.
 */
export function decodeEvent(value: unknown, at: InputPosition, limits: DecodeLimits): GuestEvent {
  if (!isPlainObject(value)) {
    throw inputError(at, 'a JSON object', value);
  }
  const type = value['type'];
  if (typeof type !== 'string' || !Object.hasOwn(EVENT_FIELDS, type)) {
    throw inputError(
      { ...at, field: 'type' },
      `one of ${Object.values(GuestEventType).join(', ')}`,
      type,
    );
  }
  // Cast: the field table for `type` has just validated every property of this event type.
  return decodeFields(
    value,
    EVENT_FIELDS[type as GuestEventType],
    at,
    '',
    limits,
  ) as unknown as GuestEvent;
}

function decodeFields(
  value: Record<string, unknown>,
  fields: readonly FieldSpec[],
  at: InputPosition,
  prefix: string,
  limits: DecodeLimits,
): Record<string, unknown> {
  for (const key of Object.keys(value)) {
    if (!fields.some((field) => field.name === key)) {
      throw inputError({ ...at, field: prefix + key }, 'no such field in vmtrace version 1');
    }
  }
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const name = prefix + field.name;
    if (!Object.hasOwn(value, field.name)) {
      if (field.optional === true) continue;
      throw inputError({ ...at, field: name }, 'this field to be present');
    }
    const item = value[field.name];
    if (item === null && field.nullable === true) {
      out[field.name] = null;
      continue;
    }
    out[field.name] = decodeValue(item, field.type, { ...at, field: name }, limits);
  }
  return out;
}

function decodeValue(
  item: unknown,
  type: FieldKind,
  at: InputPosition,
  limits: DecodeLimits,
): unknown {
  switch (type.kind) {
    case 'string':
      if (typeof item !== 'string' || item.length > limits.maxStringLength) {
        throw inputError(at, `a string of at most ${limits.maxStringLength} characters`, item);
      }
      return item;
    case 'uint':
      if (typeof item !== 'number' || !Number.isInteger(item) || item < 0 || item > type.max) {
        throw inputError(at, `an integer from 0 to ${type.max}`, item);
      }
      return item;
    case 'int32':
      if (typeof item !== 'number' || !Number.isInteger(item) || Math.abs(item) > 0x7fff_ffff) {
        throw inputError(at, 'a 32-bit signed integer', item);
      }
      return item;
    case 'enum':
      if (!type.values.includes(item as string | number)) {
        throw inputError(at, `one of ${type.values.join(', ')}`, item);
      }
      return item;
    case 'u64':
      return decodeBigint(item, U64_PATTERN, at);
    case 's64':
      return decodeBigint(item, S64_PATTERN, at);
    case 'u64-list': {
      if (!Array.isArray(item) || item.length > type.maxItems) {
        throw inputError(at, `an array of at most ${type.maxItems} hex strings`, item);
      }
      return item.map((element) => decodeBigint(element, U64_PATTERN, at));
    }
    case 'string-list': {
      if (!Array.isArray(item) || item.length > type.maxItems) {
        throw inputError(at, `an array of at most ${type.maxItems} strings`, item);
      }
      return item.map((element) => decodeValue(element, STRING, at, limits));
    }
    case 'process':
      if (!isPlainObject(item)) throw inputError(at, 'a process object', item);
      return decodeFields(item, PROCESS_FIELDS, at, `${at.field ?? ''}.`, limits);
  }
}

function decodeBigint(item: unknown, pattern: RegExp, at: InputPosition): bigint {
  const signed = pattern === S64_PATTERN;
  const expected = signed
    ? 'a signed "0x" hex string of at most 64 bits'
    : 'a "0x" hex string of at most 64 bits';
  if (typeof item !== 'string' || !pattern.test(item)) {
    throw inputError(at, expected, item);
  }
  // 16 hex digits bound the unsigned range; the signed range needs an explicit check.
  const value = item.startsWith('-') ? -BigInt(item.slice(1)) : BigInt(item);
  if (signed && (value < MIN_S64 || value > MAX_S64)) {
    throw inputError(at, expected, item);
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
