import { inputError, type InputPosition } from './_input-error.js';
import { readJsonLines } from './_json-lines.js';
import { decodeEvent, isPlainObject } from './_vmtrace-schema.js';
import type { GuestEvent } from './guest-event.js';
import { readTraceFile } from './trace-file.js';
import { VMTRACE_FORMAT, VMTRACE_VERSION, type VmtraceHeader } from './vmtrace-writer.js';

/**
 * Options for {@link decodeVmtrace} and {@link readVmtrace}.
 *
 * @example
 * ```ts
 * readVmtrace('t.vmtrace.jsonl', { maxLineBytes: 1 << 20, onHeader: (header) => console.log(header.meta) });
 * ```
 */
export interface DecodeVmtraceOptions {
  /** Names the input in errors. Default `input` (the path for {@link readVmtrace}). */
  readonly source?: string;
  /** Longest accepted line in bytes. Default `DEFAULT_MAX_LINE_BYTES` of core (16 MiB). */
  readonly maxLineBytes?: number;
  /** Longest accepted string field (comm, programKey, device). Default 4096, Linux's PATH_MAX. */
  readonly maxStringLength?: number;
  /** Called once with the validated header line. */
  readonly onHeader?: (header: VmtraceHeader) => void;
}

const HEADER_KEYS = new Set(['format', 'version', 'generator', 'created', 'meta']);

/**
 * Decodes a vmtrace byte stream (already decompressed) into events, validating every field.
 *
 * @example
 * ```ts
 * import { decodeVmtrace } from './vmtrace-reader.js';
 * const text = '{"format":"vmsight-trace","version":1}\n{"type":"syscall","vm":"lab","vcpu":null,"time":null,"abi":"i386","nr":3}\n';
 * for await (const event of decodeVmtrace([text])) console.log(event.type); // syscall
 * ```
 */
export async function* decodeVmtrace(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: DecodeVmtraceOptions = {},
): AsyncGenerator<GuestEvent> {
  const source = options.source ?? 'input';
  const limits = { maxStringLength: options.maxStringLength ?? 4096 };
  let sawHeader = false;
  for await (const { value, at } of readJsonLines(chunks, {
    source,
    maxLineBytes: options.maxLineBytes,
  })) {
    if (!sawHeader) {
      const header = checkHeader(value, at);
      options.onHeader?.(header);
      sawHeader = true;
      continue;
    }
    yield decodeEvent(value, at, limits);
  }
  if (!sawHeader) {
    throw inputError({ source }, `a "${VMTRACE_FORMAT}" header line`, undefined, {
      code: 'TRUNCATED_INPUT',
    });
  }
}

function checkHeader(value: unknown, at: InputPosition): VmtraceHeader {
  if (!isPlainObject(value) || value['format'] !== VMTRACE_FORMAT) {
    throw inputError(at, `a header line with "format": "${VMTRACE_FORMAT}"`, value);
  }
  if (value['version'] !== VMTRACE_VERSION) {
    throw inputError(
      { ...at, field: 'version' },
      `version ${VMTRACE_VERSION} (this vmsight reads no other)`,
      value['version'],
    );
  }
  for (const key of Object.keys(value)) {
    if (!HEADER_KEYS.has(key)) throw inputError({ ...at, field: key }, 'no such header field');
  }
  const { generator, created, meta } = value;
  if (generator !== undefined && typeof generator !== 'string') {
    throw inputError({ ...at, field: 'generator' }, 'a string', generator);
  }
  if (created !== undefined && typeof created !== 'string') {
    throw inputError({ ...at, field: 'created' }, 'a string', created);
  }
  const cleanMeta: Record<string, string> = {};
  if (meta !== undefined) {
    if (!isPlainObject(meta)) throw inputError({ ...at, field: 'meta' }, 'an object', meta);
    for (const [key, item] of Object.entries(meta)) {
      if (typeof item !== 'string') {
        throw inputError({ ...at, field: `meta.${key}` }, 'a string', item);
      }
      // defineProperty: a "__proto__" key from the file stays a plain own property.
      Object.defineProperty(cleanMeta, key, { value: item, enumerable: true, writable: true });
    }
  }
  return {
    format: VMTRACE_FORMAT,
    version: VMTRACE_VERSION,
    ...(generator === undefined ? {} : { generator }),
    ...(created === undefined ? {} : { created }),
    ...(meta === undefined ? {} : { meta: cleanMeta }),
  };
}

/**
 * Reads a `.vmtrace.jsonl` file, plain or zstd-compressed (detected by its magic bytes).
 *
 * @example
 * ```ts
 * import { readVmtrace } from './vmtrace-reader.js';
 * for await (const event of readVmtrace('capture.vmtrace.jsonl.zst')) console.log(event.type);
 * ```
 */
export function readVmtrace(
  path: string,
  options: DecodeVmtraceOptions = {},
): AsyncGenerator<GuestEvent> {
  return decodeVmtrace(readTraceFile(path), { source: path, ...options });
}
