import { VmsightError } from '../core/index.js';
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

export interface TcgLogParserOptions {
  /** Longest line {@link TcgLogParser.pushChunk} accepts. Default 4 KiB: dump lines are < 100 bytes. */
  readonly maxLineBytes?: number;
  /** Named in errors ("QEMU log line 12"). */
  readonly source?: string;
}

// log-backend trace line, `-msg timestamp=on` form: `8694@1795317714.519617:memory_region_ops_write …`.
const EVENT_LINE = /^(?:(\d{1,10})@(\d{1,12})\.(\d{6}):)?([a-z][a-z0-9_]{1,80}) (.*)$/;

interface PendingDump {
  vcpu: number;
  pc: bigint;
  rax?: bigint | undefined;
  rdx?: bigint | undefined;
  rsi?: bigint | undefined;
  rdi?: bigint | undefined;
  r8?: bigint | undefined;
  r9?: bigint | undefined;
  r10?: bigint | undefined;
  cr3?: bigint | undefined;
  bad: boolean;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const COLON = 0x3a;
const SLASH = 0x2f;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const EQUALS = 0x3d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const UPPER_A = 0x41;
const UPPER_Z = 0x5a;
const LOWER_A = 0x61;
const LOWER_F = 0x66;
const LOWER_Z = 0x7a;
const DEFAULT_MAX_LINE_BYTES = 4096;

const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');
// `Trace 0: 0x7fe15cd86a40 [0000000000000000/ffffffff81031080/18c0c2b0/ff000000] ` — QEMU 7.2
// accel/tcg/cpu-exec.c log_cpu_exec: cpu_index, host TB address, then cs_base/pc/flags/cflags.
const TRACE = ascii('Trace ');
// cpu_tb_exec after a TB returned TB_EXIT_REQUESTED: "We didn't start executing this TB", so
// the dump logged just before it describes a block that never ran and runs again (7.2
// accel/tcg/cpu-exec.c). Without this a syscall interrupted by an exit request counts twice.
// `Stopped execution of TB chain before 0x7fe15e0377c0 [ffffffff81c00080] `
const STOPPED = ascii('Stopped execution of TB chain before 0x');
const LINKING = ascii('Linking');
/** `EFER=` is the last line of a non-FPU x86-64 dump in QEMU 7.2. */
const EFER = ascii('EFER=');

/**
 * The register lines read, with their labels at fixed columns: target/i386/cpu-dump.c
 * x86_cpu_dump_state (64-bit mode, QEMU 7.2) prints `NAME=` then `%016" PRIx64` and a space, so
 * the n-th register of a line starts at column 21·n and its value at 21·n + 4. Only the lines with
 * the syscall number (RAX), the arguments (RDI RSI RDX R10 R8 R9) and CR3 are decoded; the
 * other 17 lines of each dump are skipped by their first bytes.
 */
const RAX_LINE = [ascii('RAX='), ascii(' RBX='), ascii(' RCX='), ascii(' RDX=')];
const RSI_LINE = [ascii('RSI='), ascii(' RDI=')];
const R8_LINE = [ascii('R8 ='), ascii(' R9 ='), ascii(' R10=')];
/** `CR0=%08x CR2=%016… CR3=%016…`: CR0 is 32-bit, so CR3's value starts at column 38. */
const CR_LINE = [ascii('CR0='), ascii(' CR2='), ascii(' CR3=')];
const REGISTER_COLUMN = 21;
const CR2_LABEL_COLUMN = 12;
const CR3_LABEL_COLUMN = 33;
const CR3_VALUE_COLUMN = 38;

/**
 * Turns QEMU's debug log into {@link TcgLogRecord}s incrementally, so it can follow a FIFO
 * without ever holding more than one register dump. {@link pushChunk} works on the raw bytes (the
 * log runs at ~140 MB/s with `cpu,exec`, lab-notes §4b): register values are decoded from fixed
 * columns and no string is made for dump lines, which is most of what it costs to keep up with
 * the guest. Anything not recognised is counted and skipped: QEMU writes the log but its content
 * (register values, device names) is guest-controlled, so nothing in it is trusted.
 *
 * @example
 * ```ts
 * import { TcgLogParser } from './tcg-log-parser.js';
 * const parser = new TcgLogParser();
 * const records = [...parser.pushChunk(Buffer.from('virtio_queue_notify vdev 0x1 n 0\n')), ...parser.end()];
 * ```
 */
export class TcgLogParser {
  readonly #maxLineBytes: number;
  readonly #source: string;
  #pending: PendingDump | undefined;
  /** A complete dump kept until the next line shows it was not retracted by a `Stopped` line. */
  #held: TcgExecRecord | undefined;
  /** The incomplete last line of the previous chunk (a copy: the caller reuses its buffers). */
  #carry: Buffer | undefined;
  #lines = 0;
  #retracted = 0;
  #records = 0;
  #malformed = 0;
  #ignored = 0;

  constructor(options: TcgLogParserOptions = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#source = options.source ?? 'QEMU log';
  }

  get stats(): TcgLogParserStats {
    return {
      records: this.#records,
      malformed: this.#malformed,
      ignoredLines: this.#ignored,
      retracted: this.#retracted,
    };
  }

  /** Records completed by one line of text (none, one, or two when a dump was cut short). */
  push(line: string): TcgLogRecord[] {
    const out: TcgLogRecord[] = [];
    const bytes = Buffer.from(line);
    this.#line(bytes, 0, bytes.length, out);
    return out;
  }

  /**
   * Records completed by a chunk of the raw log, split at LF (a trailing CR is dropped); a line
   * that continues into the next chunk is kept until it ends. A line longer than `maxLineBytes`
   * throws `LIMIT_EXCEEDED` naming it, so a hostile log cannot make the parser buffer without bound.
   */
  pushChunk(chunk: Uint8Array): TcgLogRecord[] {
    const out: TcgLogRecord[] = [];
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    if (this.#carry !== undefined) {
      // Only the line that straddles the chunks is joined; the chunk itself is never copied.
      const newline = bytes.indexOf(NEWLINE);
      const head = bytes.subarray(0, newline < 0 ? bytes.length : newline);
      this.#checkLength(this.#carry.length + head.length);
      const joined = Buffer.concat([this.#carry, head]);
      this.#carry = undefined;
      if (newline < 0) {
        this.#carry = joined;
        return out;
      }
      this.#lines += 1;
      this.#line(joined, 0, joined.length, out);
      start = newline + 1;
    }
    for (;;) {
      const newline = bytes.indexOf(NEWLINE, start);
      if (newline < 0) break;
      this.#checkLength(newline - start);
      this.#lines += 1;
      this.#line(bytes, start, newline, out);
      start = newline + 1;
    }
    if (start < bytes.length) {
      this.#checkLength(bytes.length - start);
      this.#carry = Buffer.from(bytes.subarray(start));
    }
    return out;
  }

  /** Flushes an unterminated last line, the held dump and one the input ended in the middle of. */
  end(): TcgLogRecord[] {
    const out: TcgLogRecord[] = [];
    const carry = this.#carry;
    this.#carry = undefined;
    if (carry !== undefined) {
      this.#lines += 1;
      this.#line(carry, 0, carry.length, out);
    }
    if (this.#pending !== undefined) this.#finish(out);
    this.#release(out);
    return out;
  }

  #checkLength(length: number): void {
    if (length <= this.#maxLineBytes) return;
    const line = this.#lines + 1;
    throw new VmsightError(
      'LIMIT_EXCEEDED',
      `Cannot read ${this.#source} line ${line}: it is longer than the limit of ${this.#maxLineBytes} bytes`,
      { details: { source: this.#source, line, maxLineBytes: this.#maxLineBytes } },
    );
  }

  #line(bytes: Buffer, start: number, lineEnd: number, out: TcgLogRecord[]): void {
    const end = lineEnd > start && bytes[lineEnd - 1] === CARRIAGE_RETURN ? lineEnd - 1 : lineEnd;
    const pending = this.#pending;
    if (pending !== undefined && isDumpLine(bytes, start, end)) {
      this.#collect(pending, bytes, start, end);
      if (hasAt(bytes, start, end, EFER)) this.#finish(out);
      return;
    }
    if (pending !== undefined) this.#finish(out);
    const first = end > start ? (bytes[start] as number) : 0;
    if (hasAt(bytes, start, end, STOPPED)) {
      const pc = bracketedPc(bytes, start + STOPPED.length, end);
      if (pc !== undefined && this.#held?.pc === pc) {
        this.#held = undefined;
        this.#retracted += 1;
      } else {
        this.#ignored += 1;
      }
      return;
    }
    if (hasAt(bytes, start, end, TRACE)) {
      this.#release(out);
      const trace = parseTraceLine(bytes, start + TRACE.length, end);
      if (trace === undefined) {
        this.#malformed += 1;
        return;
      }
      this.#pending = { vcpu: trace.vcpu, pc: trace.pc, bad: false };
      return;
    }
    const event =
      (first >= DIGIT_0 && first <= DIGIT_9) || (first >= LOWER_A && first <= LOWER_Z)
        ? EVENT_LINE.exec(bytes.toString('utf8', start, end))
        : null;
    if (event === null) {
      this.#ignored += 1;
      return;
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
  }

  #collect(pending: PendingDump, bytes: Buffer, start: number, end: number): void {
    if (bytes[start] === 0x52 /* R */) {
      if (hasLabels(bytes, start, end, RAX_LINE)) {
        pending.rax = hex64At(bytes, start + 4, end);
        pending.rdx = hex64At(bytes, start + 3 * REGISTER_COLUMN + 4, end);
        if (pending.rax === undefined || pending.rdx === undefined) pending.bad = true;
        return;
      }
      if (hasLabels(bytes, start, end, RSI_LINE)) {
        pending.rsi = hex64At(bytes, start + 4, end);
        pending.rdi = hex64At(bytes, start + REGISTER_COLUMN + 4, end);
        if (pending.rsi === undefined || pending.rdi === undefined) pending.bad = true;
        return;
      }
      if (hasLabels(bytes, start, end, R8_LINE)) {
        pending.r8 = hex64At(bytes, start + 4, end);
        pending.r9 = hex64At(bytes, start + REGISTER_COLUMN + 4, end);
        pending.r10 = hex64At(bytes, start + 2 * REGISTER_COLUMN + 4, end);
        if (pending.r8 === undefined || pending.r9 === undefined || pending.r10 === undefined) {
          pending.bad = true;
        }
        return;
      }
      // A line that starts like a needed one but lost its columns (a cut or garbled dump).
      if (isNeededRegisterLine(bytes, start, end)) pending.bad = true;
      return;
    }
    if (hasAt(bytes, start, end, CR_LINE[0] as Uint8Array)) {
      const labels =
        hasAt(bytes, start + CR2_LABEL_COLUMN, end, CR_LINE[1] as Uint8Array) &&
        hasAt(bytes, start + CR3_LABEL_COLUMN, end, CR_LINE[2] as Uint8Array);
      pending.cr3 = labels ? hex64At(bytes, start + CR3_VALUE_COLUMN, end) : undefined;
      if (pending.cr3 === undefined) pending.bad = true;
    }
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

/** Whether `bytes[start..end)` begins with `prefix`. */
function hasAt(bytes: Buffer, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i += 1) {
    if (bytes[start + i] !== prefix[i]) return false;
  }
  return true;
}

/** Whether the line has each label at its fixed column (0, 20, 41, … for ` NAME=` labels). */
function hasLabels(bytes: Buffer, start: number, end: number, labels: Uint8Array[]): boolean {
  for (let i = 0; i < labels.length; i += 1) {
    const column = i === 0 ? 0 : i * REGISTER_COLUMN - 1;
    if (!hasAt(bytes, start + column, end, labels[i] as Uint8Array)) return false;
  }
  return true;
}

/** `R` lines the parser reads: `RAX=`, `RSI=`, `R8 =`. */
function isNeededRegisterLine(bytes: Buffer, start: number, end: number): boolean {
  return (
    hasAt(bytes, start, end, RAX_LINE[0] as Uint8Array) ||
    hasAt(bytes, start, end, RSI_LINE[0] as Uint8Array) ||
    hasAt(bytes, start, end, R8_LINE[0] as Uint8Array)
  );
}

/** Lines of an x86 `cpu` dump start with a register name and `=` within the first five columns. */
function isDumpLine(bytes: Buffer, start: number, end: number): boolean {
  if (end - start < 4) return false;
  const first = bytes[start] as number;
  if (first < UPPER_A || first > UPPER_Z) return false;
  if (hasAt(bytes, start, end, TRACE) || hasAt(bytes, start, end, LINKING)) return false;
  for (let i = 1; i <= 5 && start + i < end; i += 1) {
    if (bytes[start + i] === EQUALS) return true;
  }
  return false;
}

function hexDigit(byte: number): number {
  if (byte >= DIGIT_0 && byte <= DIGIT_9) return byte - DIGIT_0;
  if (byte >= LOWER_A && byte <= LOWER_F) return byte - LOWER_A + 10;
  return -1;
}

/** 1 to 8 lowercase hex digits as a number, or -1. */
function hexNumber(bytes: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 8) return -1;
  let value = 0;
  for (let i = start; i < end; i += 1) {
    const digit = hexDigit(bytes[i] as number);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** 1 to 16 hex digits as a bigint, built from two 32-bit halves (no string). */
function hexBigint(bytes: Buffer, start: number, end: number): bigint | undefined {
  const length = end - start;
  if (length < 1 || length > 16) return undefined;
  const split = Math.max(start, end - 8);
  const low = hexNumber(bytes, split, end);
  const high = split === start ? 0 : hexNumber(bytes, start, split);
  if (low < 0 || high < 0) return undefined;
  return high === 0 ? BigInt(low) : (BigInt(high) << 32n) | BigInt(low);
}

/** A `%016` value at `start`, followed by the line's end or a space. */
function hex64At(bytes: Buffer, start: number, end: number): bigint | undefined {
  if (start + 16 > end) return undefined;
  if (start + 16 < end && bytes[start + 16] !== SPACE) return undefined;
  return hexBigint(bytes, start, start + 16);
}

/** Index of the first `byte` in `[start, end)`, or -1. */
function find(bytes: Buffer, byte: number, start: number, end: number): number {
  const at = bytes.indexOf(byte, start);
  return at < 0 || at >= end ? -1 : at;
}

/** `[cs_base/pc/flags/cflags]` after `Trace N: 0xHOST ` — vCPU and pc, or undefined. */
function parseTraceLine(
  bytes: Buffer,
  start: number,
  end: number,
): { vcpu: number; pc: bigint } | undefined {
  const colon = find(bytes, COLON, start, Math.min(end, start + 5));
  if (colon <= start) return undefined;
  let vcpu = 0;
  for (let i = start; i < colon; i += 1) {
    const byte = bytes[i] as number;
    if (byte < DIGIT_0 || byte > DIGIT_9) return undefined;
    vcpu = vcpu * 10 + byte - DIGIT_0;
  }
  const open = find(bytes, OPEN_BRACKET, colon, end);
  if (open < 0) return undefined;
  // Four hex fields separated by slashes, closed by `]`; the second is the pc.
  const fields: bigint[] = [];
  let fieldStart = open + 1;
  for (let field = 0; field < 4; field += 1) {
    const stop = find(bytes, field < 3 ? SLASH : CLOSE_BRACKET, fieldStart, end);
    const value = stop < 0 ? undefined : hexBigint(bytes, fieldStart, stop);
    if (value === undefined) return undefined;
    fields.push(value);
    fieldStart = stop + 1;
  }
  return { vcpu, pc: fields[1] as bigint };
}

/** The pc in `… [ffffffff81c00080]` of a `Stopped execution` line. */
function bracketedPc(bytes: Buffer, start: number, end: number): bigint | undefined {
  const open = find(bytes, OPEN_BRACKET, start, end);
  const close = open < 0 ? -1 : find(bytes, CLOSE_BRACKET, open, end);
  return close < 0 ? undefined : hexBigint(bytes, open + 1, close);
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
 * {@link TcgLogParser} over a byte stream (a FIFO, a file).
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * import { parseTcgLog } from './tcg-log-parser.js';
 * for await (const record of parseTcgLog(createReadStream('qemu.log'))) console.log(record.kind);
 * ```
 */
export async function* parseTcgLog(
  chunks: AsyncIterable<Uint8Array>,
  parser: TcgLogParser = new TcgLogParser(),
): AsyncGenerator<TcgLogRecord> {
  for await (const chunk of chunks) yield* parser.pushChunk(chunk);
  yield* parser.end();
}
