import type { TextLine } from '../core/index.js';
import type { TcgExecRecord, TcgLogRecord, TcgRegisters } from './tcg-log-record.js';

/** Counters of a {@link TcgLogParser}. */
export interface TcgLogParserStats {
  /** Register dumps and trace lines turned into records. */
  readonly records: number;
  /** Register dumps that ended before every needed register was seen, or had a bad value. */
  readonly malformed: number;
  /** Lines that are neither part of a dump nor a trace event (`Linking TBs …`, blank lines). */
  readonly ignoredLines: number;
  /** Dumps of blocks QEMU stopped before running (logged again when they do run). */
  readonly retracted: number;
}

// `Trace 0: 0x7fe15cd86a40 [0000000000000000/ffffffff81031080/18c0c2b0/ff000000] ` — QEMU 7.2
// accel/tcg/cpu-exec.c log_cpu_exec: cpu_index, host TB address, then cs_base/pc/flags/cflags.
const TRACE_LINE =
  /^Trace (\d{1,4}): 0x[0-9a-f]+ \[[0-9a-f]{1,16}\/([0-9a-f]{1,16})\/[0-9a-f]+\/[0-9a-f]+\]/;
// Register lines of target/i386/cpu-dump.c x86_cpu_dump_state (64-bit mode, QEMU 7.2), fixed
// "%016" PRIx64 fields; only the lines holding the syscall number, arguments and CR3 are read.
const RAX_LINE = /^RAX=([0-9a-f]{16}) RBX=[0-9a-f]{16} RCX=[0-9a-f]{16} RDX=([0-9a-f]{16})/;
const RSI_LINE = /^RSI=([0-9a-f]{16}) RDI=([0-9a-f]{16}) /;
const R8_LINE = /^R8 =([0-9a-f]{16}) R9 =([0-9a-f]{16}) R10=([0-9a-f]{16}) /;
const CR_LINE = /^CR0=[0-9a-f]{8} CR2=[0-9a-f]{16} CR3=([0-9a-f]{16}) /;
// log-backend trace line, `-msg timestamp=on` form: `8694@1795317714.519617:memory_region_ops_write …`.
const EVENT_LINE = /^(?:(\d{1,10})@(\d{1,12})\.(\d{6}):)?([a-z][a-z0-9_]{1,80}) (.*)$/;
// cpu_tb_exec after a TB returned TB_EXIT_REQUESTED: "We didn't start executing this TB", so
// the dump logged just before it describes a block that never ran and runs again (7.2
// accel/tcg/cpu-exec.c). Without this a syscall interrupted by an exit request counts twice.
const STOPPED_LINE = /^Stopped execution of TB chain before 0x[0-9a-f]+ \[([0-9a-f]{1,16})\]/;
const STOPPED_PREFIX = 'Stopped execution';

/** `EFER=` is the last line of a non-FPU x86-64 dump in QEMU 7.2. */
const DUMP_END_PREFIX = 'EFER=';

interface PendingDump {
  vcpu: number;
  pc: bigint;
  rax?: bigint;
  rdx?: bigint;
  rsi?: bigint;
  rdi?: bigint;
  r8?: bigint;
  r9?: bigint;
  r10?: bigint;
  cr3?: bigint;
  bad: boolean;
}

const C_T = 0x54;
const C_R = 0x52;
const C_C = 0x43;
const C_E = 0x45;
const C_A = 0x41;
const C_S = 0x53;
const C_8 = 0x38;
const C_R0 = 0x30;
const C_9 = 0x39;
const C_LOWER_A = 0x61;
const C_LOWER_Z = 0x7a;

/**
 * Whether {@link TcgLogParser} needs a raw log line (for `splitLineBatches`' `keepLine`): `Trace`,
 * the `RAX`, `RSI`, `R8`, `CR0` and `EFER` lines of a dump, and trace-event lines. The other 13
 * lines of each dump and QEMU's `Linking TBs` lines are never decoded, which is most of the cost
 * of reading ~140 MB/s of log (lab-notes §4b).
 */
export function isTcgLogLineNeeded(line: Uint8Array): boolean {
  const first = line[0];
  if (first === undefined) return false;
  if ((first >= C_R0 && first <= C_9) || (first >= C_LOWER_A && first <= C_LOWER_Z)) return true;
  const second = line[1];
  switch (first) {
    case C_T:
      return second === 0x72; // "Tr"
    case C_R:
      return (second === C_A || second === C_S || second === C_8) && line[2] !== 0x50; // not "RSP"
    case C_C:
      return second === 0x52 && line[2] === C_R0; // "CR0"
    case C_E:
      return second === 0x46; // "EF"
    case C_S:
      return second === 0x74; // "St"opped execution
    default:
      return false;
  }
}

/**
 * Turns the lines of QEMU's debug log into {@link TcgLogRecord}s, one line at a time, so it can
 * follow a FIFO without ever holding more than one register dump. Anything it does not recognise
 * is counted and skipped: the log is written by QEMU but its content (register values, device
 * names) is guest-controlled, so nothing in it is trusted to be well formed.
 *
 * @example
 * ```ts
 * import { TcgLogParser } from './tcg-log-parser.js';
 * const parser = new TcgLogParser();
 * const records = [...parser.push('RAX=…'), ...parser.end()];
 * ```
 */
export class TcgLogParser {
  #pending: PendingDump | undefined;
  /** A complete dump kept until the next line shows it was not retracted by a `Stopped` line. */
  #held: TcgExecRecord | undefined;
  #retracted = 0;
  #records = 0;
  #malformed = 0;
  #ignored = 0;

  get stats(): TcgLogParserStats {
    return {
      records: this.#records,
      malformed: this.#malformed,
      ignoredLines: this.#ignored,
      retracted: this.#retracted,
    };
  }

  /** Records completed by this line (none, one, or two when a dump was cut short). */
  push(line: string): TcgLogRecord[] {
    const out: TcgLogRecord[] = [];
    const pending = this.#pending;
    if (pending !== undefined && isDumpLine(line)) {
      this.#collect(pending, line);
      if (line.startsWith(DUMP_END_PREFIX)) this.#finish(out);
      return out;
    }
    if (pending !== undefined) this.#finish(out);
    if (line.startsWith(STOPPED_PREFIX)) {
      const stopped = STOPPED_LINE.exec(line);
      if (stopped !== null && this.#held?.pc === BigInt(`0x${stopped[1] as string}`)) {
        this.#held = undefined;
        this.#retracted += 1;
      } else {
        this.#ignored += 1;
      }
      return out;
    }
    if (line.startsWith('Trace ')) {
      this.#release(out);
      const match = TRACE_LINE.exec(line);
      if (match === null) {
        this.#malformed += 1;
        return out;
      }
      this.#pending = {
        vcpu: Number(match[1]),
        pc: BigInt(`0x${match[2] as string}`),
        bad: false,
      };
      return out;
    }
    const event = EVENT_LINE.exec(line);
    if (event === null) {
      this.#ignored += 1;
      return out;
    }
    this.#release(out);
    const [, pid, seconds, micros, name, args] = event;
    this.#records += 1;
    out.push({
      kind: 'trace',
      pid: pid === undefined ? null : Number(pid),
      time:
        seconds === undefined || micros === undefined
          ? null
          : BigInt(seconds) * 1_000_000_000n + BigInt(micros) * 1000n,
      name: name as string,
      args: args as string,
    });
    return out;
  }

  /** Flushes the held dump and one that the input ended in the middle of. */
  end(): TcgLogRecord[] {
    const out: TcgLogRecord[] = [];
    if (this.#pending !== undefined) this.#finish(out);
    this.#release(out);
    return out;
  }

  #collect(pending: PendingDump, line: string): void {
    let match: RegExpExecArray | null;
    switch (line.charCodeAt(0) === C_R ? line.charCodeAt(1) : line.charCodeAt(0)) {
      case C_A:
        match = RAX_LINE.exec(line);
        if (match === null) break;
        pending.rax = BigInt(`0x${match[1] as string}`);
        pending.rdx = BigInt(`0x${match[2] as string}`);
        return;
      case C_S:
        if (!line.startsWith('RSI=')) return;
        match = RSI_LINE.exec(line);
        if (match === null) break;
        pending.rsi = BigInt(`0x${match[1] as string}`);
        pending.rdi = BigInt(`0x${match[2] as string}`);
        return;
      case C_8:
        match = R8_LINE.exec(line);
        if (match === null) break;
        pending.r8 = BigInt(`0x${match[1] as string}`);
        pending.r9 = BigInt(`0x${match[2] as string}`);
        pending.r10 = BigInt(`0x${match[3] as string}`);
        return;
      case C_C:
        if (!line.startsWith('CR0=')) return;
        match = CR_LINE.exec(line);
        if (match === null) break;
        pending.cr3 = BigInt(`0x${match[1] as string}`);
        return;
      default:
        return;
    }
    pending.bad = true;
  }

  #finish(out: TcgLogRecord[]): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined) return;
    const registers = pending.bad ? undefined : toRegisters(pending);
    if (registers === undefined) {
      this.#malformed += 1;
      return;
    }
    this.#release(out);
    this.#held = { kind: 'exec', vcpu: pending.vcpu, pc: pending.pc, registers };
  }

  #release(out: TcgLogRecord[]): void {
    if (this.#held === undefined) return;
    this.#records += 1;
    out.push(this.#held);
    this.#held = undefined;
  }
}

/** Lines of an x86 `cpu` dump start with a register name and `=` within the first five columns. */
function isDumpLine(line: string): boolean {
  if (line.length < 4) return false;
  const first = line.charCodeAt(0);
  if (first < 0x41 || first > 0x5a) return false; // A-Z
  const equals = line.indexOf('=');
  return equals > 0 && equals <= 5 && !line.startsWith('Trace ') && !line.startsWith('Linking');
}

function toRegisters(dump: PendingDump): TcgRegisters | undefined {
  const { rax, rdi, rsi, rdx, r10, r8, r9, cr3 } = dump;
  if (
    rax === undefined ||
    rdi === undefined ||
    rsi === undefined ||
    rdx === undefined ||
    r10 === undefined ||
    r8 === undefined ||
    r9 === undefined ||
    cr3 === undefined
  ) {
    return undefined;
  }
  return { rax, rdi, rsi, rdx, r10, r8, r9, cr3 };
}

/**
 * {@link TcgLogParser} over a line stream (from `splitLines`).
 *
 * @example
 * ```ts
 * import { splitLines } from '../core/index.js';
 * import { parseTcgLog } from './tcg-log-parser.js';
 * declare const fifo: AsyncIterable<Uint8Array>;
 * for await (const record of parseTcgLog(splitLines(fifo))) console.log(record.kind);
 * ```
 */
export async function* parseTcgLog(
  lines: AsyncIterable<TextLine>,
  parser: TcgLogParser = new TcgLogParser(),
): AsyncGenerator<TcgLogRecord> {
  for await (const line of lines) yield* parser.push(line.text);
  yield* parser.end();
}
