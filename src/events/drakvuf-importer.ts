import { basename } from 'node:path';
import { decodeDrakvufRecord, type DrakvufSyscall } from './_drakvuf-record.js';
import { commOf } from './_comm.js';
import { inputError, type InputPosition } from './_input-error.js';
import { readJsonLines } from './_json-lines.js';
import type { GuestEvent, GuestProcess, SyscallEvent } from './guest-event.js';
import { SyscallTable, type SyscallAbi } from './syscall-table.js';
import { UNKNOWN_PROGRAM } from './syscall-trace.js';
import { readTraceFile } from './trace-file.js';

/**
 * What {@link parseDrakvuf} read besides the events it yielded, reported once at the end of input.
 *
 * @example
 * ```ts
 * const counts: DrakvufCounts = { syscalls: 10, sysrets: 9, unmatchedSysrets: 0, otherPlugins: 4, skippedUnknown: 0 };
 * ```
 */
export interface DrakvufCounts {
  /** `syscall` records turned into events. */
  readonly syscalls: number;
  /** `sysret` records whose return value went into the call's event. */
  readonly sysrets: number;
  /** `sysret` records with no open call of that thread and name (the capture began mid-call). */
  readonly unmatchedSysrets: number;
  /** Lines of other plugins (procmon, filetracer, …), skipped. */
  readonly otherPlugins: number;
  /** Calls dropped by `unknownSyscalls: 'skip'`. */
  readonly skippedUnknown: number;
}

/**
 * Options for {@link parseDrakvuf} and {@link readDrakvuf}.
 *
 * @example
 * ```ts
 * readDrakvuf('drakvuf.jsonl', { vm: 'sandbox-3', onCounts: (counts) => console.log(counts) });
 * ```
 */
export interface DrakvufOptions {
  /** Names the input in errors. Default `input` (the path for {@link readDrakvuf}). */
  readonly source?: string;
  /** The `vm` of every event. Default: the base name of `source`. */
  readonly vm?: string;
  /** Longest accepted line in bytes. Default `DEFAULT_MAX_LINE_BYTES` of core (16 MiB). */
  readonly maxLineBytes?: number;
  /** Longest accepted string field (process and thread names). Default 4096, Linux's PATH_MAX. */
  readonly maxStringLength?: number;
  /** `error` (default): a call name missing from the ABI's table is an error. `skip`: drop it. */
  readonly unknownSyscalls?: 'error' | 'skip';
  /**
   * Threads whose call may wait for its `sysret` at once. Beyond it the longest-waiting call is
   * emitted without a return value. Default 65,536.
   */
  readonly maxOpenCalls?: number;
  /** Called once at the end of input with what was read and skipped. */
  readonly onCounts?: (counts: DrakvufCounts) => void;
}

/** Calls after which the thread is gone: no `sysret` comes, and the task's trace is complete. */
const NO_RETURN = new Set(['exit', 'exit_group']);
/**
 * DRAKVUF's names that differ from the UAPI headers' (linux.h `linux_syscalls_table_x64`, checked
 * against every entry at cb6213981f71): only x86-64 call 40. i386 has a real `sendfile64`.
 */
const DRAKVUF_ALIASES: Readonly<Record<SyscallAbi, ReadonlyMap<string, string>>> = {
  'x86-64': new Map([['sendfile64', 'sendfile']]),
  i386: new Map(),
};

/**
 * Parses the JSON output of DRAKVUF's `syscalls` plugin (`drakvuf -a syscalls -o json`) for a
 * Linux guest into syscall events; other plugins' lines are skipped and counted. A call is held
 * until its thread's `sysret` (whose `Ret` becomes `returnValue`) or its thread's next call, so
 * per-thread order is kept; `-F` (no sysret) works the same, one call behind. `exit` and
 * `exit_group` also yield a `process-exit` for the task. Names map to numbers through the x86-64
 * table (`Type` x64) or the i386 table (`Type` x32). Events carry `pid` = DRAKVUF's TID, `tgid` =
 * its PID, `comm` = ThreadName and `programKey` = ProcessName (the executable's path). Windows
 * records are rejected: their calls have no stable numbers.
 *
 * @example
 * ```ts
 * import { parseDrakvuf } from './drakvuf-importer.js';
 * const line = '{"Plugin":"syscall","TimeStamp":"1700000000.000001","PID":7,"PPID":1,"TID":7,"UserId":0,"ProcessName":"/usr/bin/cat","Method":"close","EventUID":"0x1","ThreadName":"cat","Module":"linux","vCPU":0,"CR3":"0x1000","Syscall":3,"NArgs":1,"Type":"x64","fd":"0x3"}';
 * for await (const event of parseDrakvuf([line])) console.log(event.type); // syscall
 * ```
 */
export async function* parseDrakvuf(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: DrakvufOptions = {},
): AsyncGenerator<GuestEvent> {
  const source = options.source ?? 'input';
  const vm = options.vm ?? basename(source);
  const maxString = options.maxStringLength ?? 4096;
  const maxOpen = options.maxOpenCalls ?? 65_536;
  /** The call each thread is in, waiting for its sysret; insertion order is waiting order. */
  const open = new Map<number, { event: SyscallEvent; method: string }>();
  const counts = {
    syscalls: 0,
    sysrets: 0,
    unmatchedSysrets: 0,
    otherPlugins: 0,
    skippedUnknown: 0,
  };

  for await (const { value, at } of readJsonLines(chunks, {
    source,
    maxLineBytes: options.maxLineBytes,
  })) {
    const record = decodeDrakvufRecord(value, at, maxString);
    if (record.kind === 'other-plugin') {
      counts.otherPlugins += 1;
      continue;
    }
    const waiting = open.get(record.tid);
    if (record.kind === 'sysret') {
      if (waiting === undefined || waiting.method !== record.method) {
        counts.unmatchedSysrets += 1;
        continue;
      }
      open.delete(record.tid);
      counts.sysrets += 1;
      yield { ...waiting.event, returnValue: record.returnValue };
      continue;
    }
    if (waiting !== undefined) {
      // The thread entered a new call, so the last one never returned (execve, a signal).
      open.delete(record.tid);
      yield waiting.event;
    }
    const event = toEvent(record, vm, at, options.unknownSyscalls === 'skip');
    if (event === undefined) {
      counts.skippedUnknown += 1;
      continue;
    }
    counts.syscalls += 1;
    if (NO_RETURN.has(record.method)) {
      yield event;
      const { vcpu, time, process } = event;
      yield { type: 'process-exit', vm, vcpu, time, process };
      continue;
    }
    if (open.size >= maxOpen) {
      const [tid, oldest] = open.entries().next().value as [number, { event: SyscallEvent }];
      open.delete(tid);
      yield oldest.event;
    }
    open.set(record.tid, { event, method: record.method });
  }
  for (const { event } of open.values()) yield event;
  options.onCounts?.(counts);
}

function toEvent(
  record: DrakvufSyscall,
  vm: string,
  at: InputPosition,
  skipUnknown: boolean,
): (SyscallEvent & { readonly process: GuestProcess }) | undefined {
  const table = SyscallTable.for(record.abi);
  const nr = table.number(DRAKVUF_ALIASES[record.abi].get(record.method) ?? record.method);
  if (nr === undefined) {
    if (skipUnknown) return undefined;
    throw inputError({ ...at, field: 'Method' }, `a ${record.abi} system call name`, record.method);
  }
  const programKey = record.processName ?? record.threadName ?? UNKNOWN_PROGRAM;
  const comm = record.threadName ?? commOf(record.processName ?? '');
  const name = table.name(nr);
  return {
    type: 'syscall',
    vm,
    vcpu: record.vcpu,
    time: record.time,
    process: { pid: record.tid, tgid: record.tgid, comm, programKey },
    abi: record.abi,
    nr,
    ...(name === undefined ? {} : { name }),
  };
}

/**
 * Reads a file of `drakvuf -o json` output (plain or zstd-compressed).
 *
 * @example
 * ```ts
 * import { readDrakvuf } from './drakvuf-importer.js';
 * for await (const event of readDrakvuf('drakvuf.jsonl')) console.log(event.type);
 * ```
 */
export function readDrakvuf(
  path: string,
  options: DrakvufOptions = {},
): AsyncGenerator<GuestEvent> {
  return parseDrakvuf(readTraceFile(path), { source: path, ...options });
}
