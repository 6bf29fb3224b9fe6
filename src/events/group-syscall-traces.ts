import { VmsightError } from '../core/index.js';
import { CallBuffer } from './_call-buffer.js';
import type { GuestEvent } from './guest-event.js';
import type { SyscallAbi } from './syscall-table.js';
import { UNKNOWN_PROGRAM, type SyscallTrace } from './syscall-trace.js';

/**
 * What to do when a trace or the set of open processes reaches its limit.
 *
 * @example
 * ```ts
 * groupSyscallTraces(events, { maxCallsPerTrace: 10_000, onLimit: TraceLimitAction.ERROR });
 * ```
 */
export const TraceLimitAction = { SPLIT: 'split', ERROR: 'error' } as const;
export type TraceLimitAction = (typeof TraceLimitAction)[keyof typeof TraceLimitAction];

/**
 * Bounds on memory while grouping an event stream into per-process traces.
 *
 * @example
 * ```ts
 * const options: GroupSyscallTracesOptions = { maxOpenProcesses: 256, onLimit: 'split' };
 * ```
 */
export interface GroupSyscallTracesOptions {
  /** Names the input in trace ids and errors. Default `input`. */
  readonly source?: string;
  /** Processes with an open (unfinished) trace at one time. Default 4,096. */
  readonly maxOpenProcesses?: number;
  /** Calls in one trace. Default 1,000,000 (4 MB). */
  readonly maxCallsPerTrace?: number;
  /** Calls held in all open traces together. Default 16,777,216 (64 MiB). */
  readonly maxBufferedCalls?: number;
  /**
   * `split` (default): emit the trace reached by a limit (the longest-open one, for the process
   * and buffer limits) and carry on in a new trace. `error`: throw `LIMIT_EXCEEDED`.
   */
  readonly onLimit?: TraceLimitAction;
  /**
   * Start a new trace when a process runs a new program (`execve`: a new `programKey` or a
   * `process-start` for a running pid), so per-program models see one program per trace. Default
   * true; false keeps one trace per pid, named after its first program.
   */
  readonly splitOnExec?: boolean;
}

/**
 * Default of {@link GroupSyscallTracesOptions.maxOpenProcesses}.
 *
 * @example
 * ```ts
 * console.log(DEFAULT_MAX_OPEN_PROCESSES); // 4096
 * ```
 */
export const DEFAULT_MAX_OPEN_PROCESSES = 4096;
/**
 * Default of {@link GroupSyscallTracesOptions.maxCallsPerTrace}.
 *
 * @example
 * ```ts
 * console.log(DEFAULT_MAX_CALLS_PER_TRACE); // 1000000
 * ```
 */
export const DEFAULT_MAX_CALLS_PER_TRACE = 1_000_000;
/**
 * Default of {@link GroupSyscallTracesOptions.maxBufferedCalls}.
 *
 * @example
 * ```ts
 * console.log(DEFAULT_MAX_BUFFERED_CALLS); // 16777216
 * ```
 */
export const DEFAULT_MAX_BUFFERED_CALLS = 16 * 1024 * 1024;

interface OpenTrace {
  readonly pid: number | undefined;
  readonly programKey: string;
  readonly abi: SyscallAbi;
  readonly calls: CallBuffer;
}

/**
 * Groups syscall events into one {@link SyscallTrace} per process and program image: a trace ends
 * when its process exits, when the process starts another program (a new `programKey`, or a
 * `process-start` event for a running pid), when its ABI changes, and at the end of input. Events
 * without a process go to one trace per VM. Other event types are ignored.
 *
 * @example
 * ```ts
 * import { groupSyscallTraces } from './group-syscall-traces.js';
 * import { readVmtrace } from './vmtrace-reader.js';
 * for await (const trace of groupSyscallTraces(readVmtrace('capture.vmtrace.jsonl'))) {
 *   console.log(trace.programKey, trace.calls.length);
 * }
 * ```
 */
export async function* groupSyscallTraces(
  events: AsyncIterable<GuestEvent> | Iterable<GuestEvent>,
  options: GroupSyscallTracesOptions = {},
): AsyncGenerator<SyscallTrace> {
  const source = options.source ?? 'input';
  const maxOpen = options.maxOpenProcesses ?? DEFAULT_MAX_OPEN_PROCESSES;
  const maxCalls = options.maxCallsPerTrace ?? DEFAULT_MAX_CALLS_PER_TRACE;
  const maxBuffered = options.maxBufferedCalls ?? DEFAULT_MAX_BUFFERED_CALLS;
  const onLimit = options.onLimit ?? 'split';
  const splitOnExec = options.splitOnExec ?? true;
  // Map iteration is insertion order, so the first entry is the longest-open trace.
  const open = new Map<string, OpenTrace>();
  let buffered = 0;
  let sequence = 0;

  const close = (key: string): SyscallTrace | undefined => {
    const trace = open.get(key);
    if (trace === undefined) return undefined;
    open.delete(key);
    buffered -= trace.calls.length;
    if (trace.calls.length === 0) return undefined;
    sequence += 1;
    return {
      id: `${source}:pid-${trace.pid ?? 'none'}:${sequence}`,
      source,
      programKey: trace.programKey,
      abi: trace.abi,
      calls: trace.calls.take(),
      ...(trace.pid === undefined ? {} : { pid: trace.pid }),
    };
  };
  const limit = (what: string, value: number): VmsightError =>
    new VmsightError(
      'LIMIT_EXCEEDED',
      `Cannot group ${JSON.stringify(source)} into traces: more than ${value} ${what}`,
      { details: { source, limit: what, value } },
    );

  for await (const event of events) {
    if (event.type === 'process-exit' || (event.type === 'process-start' && splitOnExec)) {
      const ended = close(keyOf(event.vm, event.process.pid));
      if (ended !== undefined) yield ended;
      continue;
    }
    if (event.type !== 'syscall') continue;
    const pid = event.process?.pid;
    const key = keyOf(event.vm, pid);
    const programKey = event.process?.programKey ?? UNKNOWN_PROGRAM;
    let trace = open.get(key);
    const exec = splitOnExec && trace !== undefined && trace.programKey !== programKey;
    if (trace !== undefined && (exec || trace.abi !== event.abi)) {
      const ended = close(key);
      if (ended !== undefined) yield ended;
      trace = undefined;
    }
    if (trace === undefined) {
      if (open.size >= maxOpen) {
        if (onLimit === 'error') throw limit('open processes', maxOpen);
        const oldest = close(open.keys().next().value as string);
        if (oldest !== undefined) yield oldest;
      }
      trace = { pid, programKey, abi: event.abi, calls: new CallBuffer(64) };
      open.set(key, trace);
    }
    if (trace.calls.length >= maxCalls) {
      if (onLimit === 'error') throw limit('calls in one trace', maxCalls);
      const full = close(key);
      if (full !== undefined) yield full;
      trace = { pid, programKey, abi: event.abi, calls: new CallBuffer(64) };
      open.set(key, trace);
    }
    if (buffered >= maxBuffered) {
      if (onLimit === 'error') throw limit('buffered calls', maxBuffered);
      const oldest = close(open.keys().next().value as string);
      if (oldest !== undefined) yield oldest;
      if (!open.has(key)) open.set(key, trace);
    }
    trace.calls.push(event.nr);
    buffered += 1;
  }
  for (const key of [...open.keys()]) {
    const ended = close(key);
    if (ended !== undefined) yield ended;
  }
}

function keyOf(vm: string, pid: number | undefined): string {
  return `${vm}\u0000${pid ?? ''}`;
}
