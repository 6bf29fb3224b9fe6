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
}

// `Trace 0: 0x7fe15cd86a40 [0000000000000000/ffffffff81031080/18c0c2b0/ff000000] ` — QEMU 7.2
// accel/tcg/cpu-exec.c log_cpu_exec: cpu_index, host TB address, then cs_base/pc/flags/cflags.
const TRACE_LINE = /^Trace (\d{1,4}): 0x[0-9a-f]+ \[[0-9a-f]{1,16}\/([0-9a-f]{1,16})\/[0-9a-f]+\/[0-9a-f]+\]/;
// `NAME=HEX` pairs of target/i386/cpu-dump.c x86_cpu_dump_state; `R8 =` and `R9 =` are padded.
const REGISTER_PAIR = /([A-Z][A-Z0-9]{1,3}) ?=([0-9a-f]{8,16})(?= |$)/g;
// log-backend trace line, `-msg timestamp=on` form: `8694@1795317714.519617:memory_region_ops_write …`.
const EVENT_LINE = /^(?:(\d{1,10})@(\d{1,12})\.(\d{6}):)?([a-z][a-z0-9_]{1,80}) (.*)$/;
/** `EFER=` is the last line of a non-FPU x86-64 dump in QEMU 7.2. */
const DUMP_END_PREFIX = 'EFER=';

const WANTED = new Set(['RAX', 'RDI', 'RSI', 'RDX', 'R10', 'R8', 'R9', 'CR3']);

interface PendingDump {
  vcpu: number;
  pc: bigint;
  values: Map<string, bigint>;
  bad: boolean;
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
  #records = 0;
  #malformed = 0;
  #ignored = 0;

  get stats(): TcgLogParserStats {
    return { records: this.#records, malformed: this.#malformed, ignoredLines: this.#ignored };
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
    if (line.startsWith('Trace ')) {
      const match = TRACE_LINE.exec(line);
      if (match === null) {
        this.#malformed += 1;
        return out;
      }
      this.#pending = {
        vcpu: Number(match[1]),
        pc: BigInt(`0x${match[2] as string}`),
        values: new Map(),
        bad: false,
      };
      return out;
    }
    const event = EVENT_LINE.exec(line);
    if (event === null || line.startsWith('Linking TBs') || line.startsWith('Stopped ')) {
      this.#ignored += 1;
      return out;
    }
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

  /** Flushes a dump that the input ended in the middle of. */
  end(): TcgLogRecord[] {
    const out: TcgLogRecord[] = [];
    if (this.#pending !== undefined) this.#finish(out);
    return out;
  }

  #collect(pending: PendingDump, line: string): void {
    if (line.length > 200) {
      pending.bad = true;
      return;
    }
    for (const match of line.matchAll(REGISTER_PAIR)) {
      const name = match[1] as string;
      if (WANTED.has(name)) pending.values.set(name, BigInt(`0x${match[2] as string}`));
    }
  }

  #finish(out: TcgLogRecord[]): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined) return;
    const registers = pending.bad ? undefined : toRegisters(pending.values);
    if (registers === undefined) {
      this.#malformed += 1;
      return;
    }
    this.#records += 1;
    const record: TcgExecRecord = {
      kind: 'exec',
      vcpu: pending.vcpu,
      pc: pending.pc,
      registers,
    };
    out.push(record);
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

function toRegisters(values: Map<string, bigint>): TcgRegisters | undefined {
  const rax = values.get('RAX');
  const rdi = values.get('RDI');
  const rsi = values.get('RSI');
  const rdx = values.get('RDX');
  const r10 = values.get('R10');
  const r8 = values.get('R8');
  const r9 = values.get('R9');
  const cr3 = values.get('CR3');
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
