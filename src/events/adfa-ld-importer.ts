import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { VmsightError, splitLines } from '../core/index.js';
import { CallBuffer } from './_call-buffer.js';
import { inputError } from './_input-error.js';
import { toAsync } from './_to-async.js';
import { ioError, readTraceFile } from './trace-file.js';
import {
  UNKNOWN_PROGRAM,
  type SyscallTrace,
  type TraceLabel,
  type TraceSplit,
} from './syscall-trace.js';

/**
 * Options for {@link readAdfaLd} and {@link parseAdfaLdTrace}.
 *
 * @example
 * ```ts
 * readAdfaLd(root, { concurrency: 4, maxCallsPerTrace: 100_000 });
 * ```
 */
export interface AdfaLdOptions {
  /** Longest accepted line in bytes (an ADFA-LD trace is one line). Default: core's 16 MiB. */
  readonly maxLineBytes?: number;
  /** Calls in one trace file. Default 1,000,000; the longest real trace has 4,494. */
  readonly maxCallsPerTrace?: number;
  /** Trace files in one folder tree. Default 100,000; the dataset has 5,951. */
  readonly maxFiles?: number;
  /** Files read ahead in parallel (results stay in sorted order). Default 16. */
  readonly concurrency?: number;
}

/** ADFA-LD's top-level folders and the part of the protocol each holds (dataset README). */
const SPLIT_FOLDERS: ReadonlyMap<string, TraceSplit> = new Map([
  ['Training_Data_Master', 'training'],
  ['Validation_Data_Master', 'validation'],
  ['Attack_Data_Master', 'attack'],
]);

/** The largest i386 system call number plus headroom; anything above is not a call number. */
const MAX_CALL_NUMBER = 0xffff;
const SPACE = 0x20;
const TAB = 0x09;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * Parses one ADFA-LD trace: decimal i386 system call numbers separated by spaces, usually on one
 * line with a trailing space and no newline (dataset README, "File format").
 *
 * @example
 * ```ts
 * import { parseAdfaLdTrace } from './adfa-ld-importer.js';
 * await parseAdfaLdTrace(['6 6 63 '], { source: 'UTD-0001.txt' }); // Uint32Array [6, 6, 63]
 * ```
 */
export async function parseAdfaLdTrace(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: AdfaLdOptions & { readonly source?: string } = {},
): Promise<Uint32Array> {
  const source = options.source ?? 'input';
  const maxCalls = options.maxCallsPerTrace ?? 1_000_000;
  const calls = new CallBuffer(512);
  const lines = splitLines(toAsync(chunks), {
    source: JSON.stringify(source),
    ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
  });
  for await (const line of lines) {
    const text = line.text;
    let value = -1;
    let start = 0;
    // Digits are folded straight from char codes: no substring or Number() per call.
    for (let index = 0; index <= text.length; index += 1) {
      const code = index < text.length ? text.charCodeAt(index) : SPACE;
      if (code >= DIGIT_0 && code <= DIGIT_9) {
        if (value < 0) {
          value = 0;
          start = index;
        }
        value = value * 10 + (code - DIGIT_0);
        if (value > MAX_CALL_NUMBER) {
          const at = { source, line: line.number, column: start + 1 };
          throw inputError(
            at,
            `a system call number up to ${MAX_CALL_NUMBER}`,
            numberAt(text, start),
          );
        }
      } else if (code === SPACE || code === TAB) {
        if (value >= 0) {
          if (calls.length >= maxCalls) {
            throw new VmsightError(
              'LIMIT_EXCEEDED',
              `Cannot read ${JSON.stringify(source)}: more than ${maxCalls} system calls`,
              { details: { source, maxCallsPerTrace: maxCalls } },
            );
          }
          calls.push(value);
          value = -1;
        }
      } else {
        const at = { source, line: line.number, column: index + 1 };
        throw inputError(at, 'a system call number', numberAt(text, value >= 0 ? start : index));
      }
    }
  }
  return calls.take();
}

function numberAt(text: string, start: number): string {
  const end = text.slice(start).search(/[ \t]/);
  return end < 0 ? text.slice(start) : text.slice(start, start + end);
}

/**
 * The label ADFA-LD's folder layout implies for a trace path: `Training_Data_Master` and
 * `Validation_Data_Master` hold normal traces, `Attack_Data_Master/<Type>_<n>/` attacks of `<Type>`.
 *
 * @example
 * ```ts
 * import { adfaLdLabel } from './adfa-ld-importer.js';
 * adfaLdLabel('Attack_Data_Master/Hydra_FTP_3/UAD-Hydra-FTP-3-1.txt');
 * // { kind: 'attack', split: 'attack', attackType: 'Hydra_FTP' }
 * ```
 */
export function adfaLdLabel(path: string): TraceLabel | undefined {
  const parts = path.split(/[\\/]/);
  for (let index = parts.length - 2; index >= 0; index -= 1) {
    const split = SPLIT_FOLDERS.get(parts[index] as string);
    if (split === undefined) continue;
    if (split !== 'attack') return { kind: 'normal', split };
    // `Attack_Data_Master/Hydra_FTP_3/UAD-….txt`: the type is the folder name without `_<n>`.
    const folder = index + 2 < parts.length ? parts[index + 1] : undefined;
    const attackType = folder?.replace(/_\d+$/, '');
    return attackType === undefined
      ? { kind: 'attack', split }
      : { kind: 'attack', split, attackType };
  }
  return undefined;
}

/**
 * Reads ADFA-LD: a single trace file, or a folder (the dataset root or any part of it) walked in
 * sorted order so results are deterministic. One {@link SyscallTrace} per `.txt` file, ABI i386,
 * labelled from the folder layout.
 *
 * @example
 * ```ts
 * import { readAdfaLd } from './adfa-ld-importer.js';
 * for await (const trace of readAdfaLd('../shared/datasets/adfa-ld')) {
 *   console.log(trace.id, trace.label?.kind, trace.calls.length);
 * }
 * ```
 */
export async function* readAdfaLd(
  path: string,
  options: AdfaLdOptions = {},
): AsyncGenerator<SyscallTrace> {
  const info = await stat(path).catch((error: unknown) => {
    throw ioError(error, path);
  });
  const files = info.isDirectory()
    ? await listTraceFiles(path, options.maxFiles ?? 100_000)
    : [path];
  const root = info.isDirectory() ? path : undefined;
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const load = (file: string): Promise<Uint32Array> =>
    parseAdfaLdTrace(readTraceFile(file), { ...options, source: file });
  // A window of reads in flight hides file-open latency; traces are still yielded in sorted order.
  const pending: Promise<Uint32Array>[] = [];
  let next = 0;
  try {
    for (let index = 0; index < files.length; index += 1) {
      while (next < files.length && next < index + concurrency) {
        const promise = load(files[next] as string);
        promise.catch(() => undefined); // rejections surface when awaited below, in order
        pending.push(promise);
        next += 1;
      }
      const calls = await (pending.shift() as Promise<Uint32Array>);
      const file = files[index] as string;
      const id = root === undefined ? basename(file) : relative(root, file).split(sep).join('/');
      const label = adfaLdLabel(root === undefined ? file : id) ?? adfaLdLabel(file);
      yield {
        id,
        source: file,
        programKey: UNKNOWN_PROGRAM,
        abi: 'i386',
        calls,
        ...(label === undefined ? {} : { label }),
      };
    }
  } finally {
    await Promise.allSettled(pending);
  }
}

async function listTraceFiles(root: string, maxFiles: number): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
      throw ioError(error, dir);
    });
    // Code-unit order, not locale order: the same list on every machine.
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(path);
      } else if (entry.isFile() && entry.name.endsWith('.txt')) {
        if (found.length >= maxFiles) {
          throw new VmsightError(
            'LIMIT_EXCEEDED',
            `Cannot read ${JSON.stringify(root)}: more than ${maxFiles} trace files`,
            { details: { path: root, maxFiles } },
          );
        }
        found.push(path);
      }
    }
  };
  await walk(root);
  return found;
}
