import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CompressStream } from 'zstd-napi';
import { VmsightError } from '../core/index.js';
import type { GuestEvent } from './guest-event.js';
import { encodeEvent } from './_vmtrace-schema.js';

/**
 * The `format` value of every vmtrace header line.
 *
 * @example
 * ```ts
 * JSON.parse(firstLine).format === VMTRACE_FORMAT;
 * ```
 */
export const VMTRACE_FORMAT = 'vmsight-trace';
/**
 * The vmtrace format version this code writes and reads.
 *
 * @example
 * ```ts
 * JSON.parse(firstLine).version === VMTRACE_VERSION;
 * ```
 */
export const VMTRACE_VERSION = 1;

/**
 * The first line of a `.vmtrace.jsonl` file.
 *
 * @example
 * ```ts
 * const header: VmtraceHeader = { format: 'vmsight-trace', version: 1, meta: { vm: 'lab' } };
 * ```
 */
export interface VmtraceHeader {
  readonly format: typeof VMTRACE_FORMAT;
  readonly version: typeof VMTRACE_VERSION;
  /** The program that wrote the file, for example `vmsight 0.1.0`. */
  readonly generator?: string;
  /** ISO 8601 time the recording started. */
  readonly created?: string;
  /** Free-form string metadata (VM name, kernel version, capture backend). */
  readonly meta?: Readonly<Record<string, string>>;
}

/**
 * Options for {@link encodeVmtrace} and {@link writeVmtrace}.
 *
 * @example
 * ```ts
 * encodeVmtrace(events, { generator: 'vmsight 0.1.0', created: new Date().toISOString() });
 * ```
 */
export interface EncodeVmtraceOptions {
  readonly generator?: string;
  readonly created?: string;
  readonly meta?: Readonly<Record<string, string>>;
}

/**
 * Encodes events as vmtrace lines (each ending in `\n`), header first. Bigints become `0x` hex
 * strings; nothing is buffered beyond one event.
 *
 * @example
 * ```ts
 * import { encodeVmtrace } from './vmtrace-writer.js';
 * const events = [{ type: 'syscall', vm: 'lab', vcpu: 0, time: 1n, abi: 'x86-64', nr: 0 } as const];
 * for await (const line of encodeVmtrace(events)) process.stdout.write(line);
 * // {"format":"vmsight-trace","version":1}
 * // {"type":"syscall","vm":"lab","vcpu":0,"time":"0x1","abi":"x86-64","nr":0}
 * ```
 */
export async function* encodeVmtrace(
  events: AsyncIterable<GuestEvent> | Iterable<GuestEvent>,
  options: EncodeVmtraceOptions = {},
): AsyncGenerator<string> {
  const header: VmtraceHeader = {
    format: VMTRACE_FORMAT,
    version: VMTRACE_VERSION,
    ...(options.generator === undefined ? {} : { generator: options.generator }),
    ...(options.created === undefined ? {} : { created: options.created }),
    ...(options.meta === undefined ? {} : { meta: options.meta }),
  };
  yield `${JSON.stringify(header)}\n`;
  for await (const event of events) {
    yield `${JSON.stringify(encodeEvent(event))}\n`;
  }
}

/**
 * Options for {@link writeVmtrace}.
 *
 * @example
 * ```ts
 * await writeVmtrace(events, 'out.vmtrace.jsonl', { compress: true, compressionLevel: 9 });
 * ```
 */
export interface WriteVmtraceOptions extends EncodeVmtraceOptions {
  /** zstd-compress the output. Default: when the path ends in `.zst`. */
  readonly compress?: boolean;
  /** zstd level, 1 (fast) to 19. Default 3, zstd's own default. */
  readonly compressionLevel?: number;
}

/** Lines per write: one syscall per `write(2)` would dominate the cost of recording. */
const LINES_PER_CHUNK = 512;

/**
 * Streams events into a `.vmtrace.jsonl` (or `.vmtrace.jsonl.zst`) file, or into a writable
 * stream. Resolves with the number of events written.
 *
 * @example
 * ```ts
 * import { writeVmtrace } from './vmtrace-writer.js';
 * const count = await writeVmtrace(events, 'capture.vmtrace.jsonl.zst');
 * ```
 */
export async function writeVmtrace(
  events: AsyncIterable<GuestEvent> | Iterable<GuestEvent>,
  destination: string | Writable,
  options: WriteVmtraceOptions = {},
): Promise<number> {
  let count = -1; // the header line is not an event
  async function* chunks(): AsyncGenerator<string> {
    let batch: string[] = [];
    for await (const line of encodeVmtrace(events, options)) {
      count += 1;
      batch.push(line);
      if (batch.length >= LINES_PER_CHUNK) {
        yield batch.join('');
        batch = [];
      }
    }
    if (batch.length > 0) yield batch.join('');
  }
  const compress =
    options.compress ?? (typeof destination === 'string' && destination.endsWith('.zst'));
  const sink = typeof destination === 'string' ? createWriteStream(destination) : destination;
  const source = Readable.from(chunks(), { objectMode: false });
  try {
    if (compress) {
      const compressor = new CompressStream({ compressionLevel: options.compressionLevel ?? 3 });
      await pipeline(source, compressor, sink);
    } else {
      await pipeline(source, sink);
    }
  } catch (error) {
    if (error instanceof VmsightError) throw error;
    const where = typeof destination === 'string' ? JSON.stringify(destination) : 'the stream';
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new VmsightError('IO_ERROR', `Cannot write ${where}: ${reason}`, { cause: error });
  }
  return count;
}
