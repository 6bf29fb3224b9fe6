import { basename } from 'node:path';
import { VmsightError, splitLines } from '../core/index.js';
import { commOf } from './_comm.js';
import { inputError, type InputPosition } from './_input-error.js';
import {
  checkPid,
  dayStartNs,
  firstStringArgument,
  parseStraceLine,
  parseStraceResult,
  splitCall,
  type StraceBody,
} from './_strace-line.js';
import { toAsync } from './_to-async.js';
import type { GuestEvent, GuestProcess, SyscallEvent } from './guest-event.js';
import { SyscallTable, type SyscallAbi } from './syscall-table.js';
import { UNKNOWN_PROGRAM } from './syscall-trace.js';
import { readTraceFile } from './trace-file.js';

/**
 * Options for {@link parseStrace} and {@link readStrace}.
 *
 * @example
 * ```ts
 * readStrace('ls.strace', { date: '2026-11-22', unknownSyscalls: 'skip' });
 * ```
 */
export interface StraceOptions {
  /** Names the input in errors. Default `input` (the path for {@link readStrace}). */
  readonly source?: string;
  /** The `vm` of every event. Default: the base name of `source`. */
  readonly vm?: string;
  readonly maxLineBytes?: number;
  /** `error` (default): a call name missing from the ABI's table is an error. `skip`: drop it. */
  readonly unknownSyscalls?: 'error' | 'skip';
  /** `error` (default) or `skip` lines that are no strace output (the program's own stderr). */
  readonly unrecognizedLines?: 'error' | 'skip';
  /** UTC date (`YYYY-MM-DD`) of `-t`/`-tt` times, which carry none. Default `1970-01-01`. */
  readonly date?: string;
  /**
   * Pid of the process strace started. strace prints no pid while it traces a single process;
   * without this option the pid is learnt from the first `[pid N]` line, or is 0 if none comes.
   */
  readonly pid?: number;
  /** Processes tracked at once. Default 65,536. */
  readonly maxProcesses?: number;
  /** Events held while the first process's pid is unknown. Default 100,000. */
  readonly maxHeldEvents?: number;
}

interface TracedProcess {
  pid: number | undefined;
  tgid: number | undefined;
  comm: string;
  programKey: string;
  abi: SyscallAbi;
  pending: { head: string; time: bigint | null; at: InputPosition } | undefined;
}

const FORKS = new Set(['clone', 'clone3', 'fork', 'vfork']);
const ATTACHED = /strace: Process (\d+) attached$/;

/**
 * Parses `strace` output (`-f`, `-ff`-style pid-first lines, `-t`/`-tt`/`-ttt`, `-T`) into
 * syscall, process-start and process-exit events. `<unfinished ...>` lines are joined with their
 * `<... resumed>` line; a successful `execve` switches the process's `programKey` to the path.
 * Names map to numbers through the x86-64 table (i386 after `runs in 32 bit mode`).
 *
 * @example
 * ```ts
 * import { parseStrace } from './strace-importer.js';
 * const text = '[pid 42] read(3, "", 4096) = 0\n';
 * for await (const event of parseStrace([text])) console.log(event.type); // syscall
 * ```
 */
export async function* parseStrace(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: StraceOptions = {},
): AsyncGenerator<GuestEvent> {
  const source = options.source ?? 'input';
  const vm = options.vm ?? basename(source);
  const maxProcesses = options.maxProcesses ?? 65_536;
  const maxHeld = options.maxHeldEvents ?? 100_000;
  const dayStart = dayStartNs(options.date ?? '1970-01-01', source);
  const processes = new Map<number, TracedProcess>();
  const announced = new Set<number>();
  const initial: TracedProcess = newProcess(options.pid, UNKNOWN_PROGRAM, '', 'x86-64');
  if (initial.pid !== undefined) processes.set(initial.pid, initial);
  /** Events waiting for the first process's pid, in order, as functions of that pid. */
  let held: ((initialPid: number) => GuestEvent)[] = [];
  /** The process inside clone/fork/vfork, whose child may show up before the call returns. */
  let forker: { proc: TracedProcess; call: string } | undefined;
  let carry = '';

  /** The process as it is now; its pid, when still unknown, filled in at resolution. */
  const identity = (proc: TracedProcess): ((initialPid: number) => GuestProcess) => {
    const { pid, tgid, comm, programKey } = proc;
    return (initialPid) => ({
      pid: pid ?? initialPid,
      tgid: tgid ?? pid ?? initialPid,
      comm,
      programKey,
    });
  };
  function* resolveInitial(pid: number): Generator<GuestEvent> {
    initial.pid = pid;
    initial.tgid ??= pid;
    processes.set(pid, initial);
    const waiting = held;
    held = [];
    for (const make of waiting) yield make(pid);
  }
  /**
   * strace prints no pid while it traces one process, so the first process's events wait until a
   * second process makes strace print `[pid N]` for both; later events queue behind them in order.
   */
  function* emit(
    make: (initialPid: number) => GuestEvent,
    needsInitial: boolean,
  ): Generator<GuestEvent> {
    if (held.length === 0 && !needsInitial) {
      yield make(0);
      return;
    }
    held.push(make);
    if (held.length > maxHeld) yield* resolveInitial(0);
  }
  function* processFor(
    pid: number | undefined,
    time: bigint | null,
  ): Generator<GuestEvent, TracedProcess> {
    if (pid === undefined) {
      if (processes.size === 1 && initial.pid !== undefined) {
        return processes.values().next().value as TracedProcess;
      }
      return initial;
    }
    const known = processes.get(pid);
    if (known !== undefined) return known;
    if (initial.pid === undefined && !announced.has(pid)) {
      yield* resolveInitial(pid);
      return initial;
    }
    if (processes.size >= maxProcesses) {
      throw new VmsightError(
        'LIMIT_EXCEEDED',
        `Cannot parse ${JSON.stringify(source)}: more than ${maxProcesses} processes at once`,
        { details: { source, maxProcesses } },
      );
    }
    const parent = forker?.proc ?? initial;
    const thread = forker?.call.includes('CLONE_THREAD') === true;
    const child = newProcess(pid, parent.programKey, parent.comm, parent.abi);
    child.tgid = thread ? parent.tgid : pid;
    processes.set(pid, child);
    announced.delete(pid);
    const who = identity(child);
    const parentPid = parent.pid;
    yield* emit(
      (initialPid) => ({
        type: 'process-start',
        vm,
        vcpu: null,
        time,
        process: who(initialPid),
        parentPid: parentPid ?? initialPid,
      }),
      parentPid === undefined || child.tgid === undefined,
    );
    return child;
  }
  function* finishCall(
    proc: TracedProcess,
    body: Extract<StraceBody, { kind: 'call' }>,
    time: bigint | null,
    at: InputPosition,
  ): Generator<GuestEvent> {
    const table = SyscallTable.for(proc.abi);
    const nr = body.name.startsWith('syscall_0x')
      ? parseInt(body.name.slice(10), 16)
      : table.number(body.name);
    if (nr === undefined || nr > 0xffff_ffff) {
      if (options.unknownSyscalls === 'skip') return;
      throw inputError(at, `a ${proc.abi} system call name`, body.name);
    }
    const result = parseStraceResult(body.result);
    if (body.name === 'execve' && result.value === 0n) {
      const path = firstStringArgument(body.args);
      if (path !== undefined) {
        proc.programKey = path;
        proc.comm = commOf(path);
      }
    }
    const who = identity(proc);
    const event: Omit<SyscallEvent, 'process'> = {
      type: 'syscall',
      vm,
      vcpu: null,
      time,
      abi: proc.abi,
      nr,
      ...(table.name(nr) === undefined ? {} : { name: table.name(nr) as string }),
      ...(result.value === undefined ? {} : { returnValue: result.value }),
      ...(result.errorName === undefined ? {} : { errorName: result.errorName }),
    };
    yield* emit((initialPid) => ({ ...event, process: who(initialPid) }), proc.pid === undefined);
    if (FORKS.has(body.name) && result.value !== undefined && result.value > 0n) {
      forker = { proc, call: body.args };
      yield* processFor(checkPid(Number(result.value), at), time);
      forker = undefined;
    }
  }
  function* flushPending(proc: TracedProcess): Generator<GuestEvent> {
    const pending = proc.pending;
    if (pending === undefined) return;
    proc.pending = undefined;
    // The call never returned (the process died in it, or strace stopped): keep the call itself.
    const name = /^[a-z_][a-z0-9_]*|^syscall_0x[0-9a-f]+/.exec(pending.head)?.[0];
    if (name === undefined) return;
    yield* finishCall(
      proc,
      { kind: 'call', name, args: '', result: '?' },
      pending.time,
      pending.at,
    );
  }

  const lines = splitLines(toAsync(chunks), {
    source: JSON.stringify(source),
    ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
  });
  for await (const line of lines) {
    let text = carry + line.text;
    carry = '';
    const attached = ATTACHED.exec(text);
    if (attached !== null) {
      announced.add(Number(attached[1]));
      // strace's own stderr message can land inside a call line (`vfork(strace: Process 7
      // attached` then ` <unfinished ...>`): keep the call part and join it with the next line.
      carry = text.slice(0, attached.index);
      if (carry.trim() === '') carry = '';
      continue;
    }
    if (text.startsWith('strace: ') || text.trim() === '') continue;
    const parsed = parseStraceLine(text);
    const at: InputPosition = { source, line: line.number, column: parsed.bodyColumn };
    const time =
      parsed.time === undefined ? null : parsed.timeOfDay ? dayStart + parsed.time : parsed.time;
    const body = parsed.body;
    if (body.kind === 'personality') {
      const proc = yield* processFor(checkPid(body.pid, at), time);
      proc.abi = body.bits === 32 ? 'i386' : 'x86-64';
      continue;
    }
    if (body.kind === 'other') {
      if (options.unrecognizedLines === 'skip') continue;
      text = text.slice(parsed.bodyColumn - 1);
      throw inputError(at, 'a system call, a signal or an exit line', text);
    }
    const proc = yield* processFor(checkPid(parsed.pid, at), time);
    switch (body.kind) {
      case 'call':
        yield* finishCall(proc, body, time, at);
        break;
      case 'unfinished':
        yield* flushPending(proc);
        proc.pending = { head: body.head, time, at };
        if (FORKS.has(body.head.slice(0, body.head.indexOf('(')))) {
          forker = { proc, call: body.head };
        }
        break;
      case 'resumed': {
        const pending = proc.pending;
        proc.pending = undefined;
        const head = pending?.head ?? `${body.name}(`;
        const joined = splitCall(body.name, head + body.tail);
        if (joined.kind !== 'call') {
          throw inputError(
            at,
            `the end of the resumed ${body.name} call: ") = <result>"`,
            body.tail,
            {
              code: 'TRUNCATED_INPUT',
            },
          );
        }
        yield* finishCall(proc, joined, pending?.time ?? time, pending?.at ?? at);
        if (forker?.proc === proc) forker = undefined;
        break;
      }
      case 'truncated':
        throw inputError(
          at,
          `a complete ${body.name} call ending in ") = <result>" or "<unfinished ...>"`,
          text.slice(parsed.bodyColumn - 1),
          { code: 'TRUNCATED_INPUT' },
        );
      case 'signal':
        break;
      case 'exited':
      case 'killed': {
        yield* flushPending(proc);
        const who = identity(proc);
        const ending = body.kind === 'exited' ? { exitCode: body.code } : { signal: body.signal };
        yield* emit(
          (initialPid) => ({
            type: 'process-exit',
            vm,
            vcpu: null,
            time,
            process: who(initialPid),
            ...ending,
          }),
          proc.pid === undefined,
        );
        if (proc.pid !== undefined) processes.delete(proc.pid);
        if (forker?.proc === proc) forker = undefined;
        break;
      }
    }
  }
  for (const proc of new Set([initial, ...processes.values()])) yield* flushPending(proc);
  if (held.length > 0) yield* resolveInitial(0);
}

function newProcess(
  pid: number | undefined,
  programKey: string,
  comm: string,
  abi: SyscallAbi,
): TracedProcess {
  return { pid, tgid: pid, comm, programKey, abi, pending: undefined };
}

/**
 * Reads a file of `strace` output (plain or zstd-compressed).
 *
 * @example
 * ```ts
 * import { readStrace } from './strace-importer.js';
 * for await (const event of readStrace('ls.strace')) console.log(event.type);
 * ```
 */
export function readStrace(path: string, options: StraceOptions = {}): AsyncGenerator<GuestEvent> {
  return parseStrace(readTraceFile(path), { source: path, ...options });
}
