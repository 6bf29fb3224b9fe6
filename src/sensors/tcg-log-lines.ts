/**
 * The lines of QEMU's debug log that are not register-dump lines: the `Trace N:` line that opens a
 * dump, the `Stopped execution` line that retracts one, `Linking TBs` lines, and log-backend trace
 * events. Each is read from `bytes[start, end)` in place; a line that does not match gives false
 * or undefined.
 */
import {
  ascii,
  decimalDigit,
  find,
  hasAt,
  hexBigint,
  isDigit,
  isLowerLetter,
} from './ascii-bytes.js';
import type { QemuTraceRecord } from './tcg-log-record.js';

const SLASH = 0x2f;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

// log-backend trace line, `-msg timestamp=on` form: `8694@1795317714.519617:memory_region_ops_write …`.
const EVENT_LINE = /^(?:(\d{1,10})@(\d{1,12})\.(\d{6}):)?([a-z][a-z0-9_]{1,80}) (.*)$/;

// `Trace 0: 0x7fe15cd86a40 [0000000000000000/ffffffff81031080/18c0c2b0/ff000000] ` — QEMU 7.2
// accel/tcg/cpu-exec.c log_cpu_exec: cpu_index, host TB address, then cs_base/pc/flags/cflags.
const TRACE = ascii('Trace ');
// cpu_tb_exec after a TB returned TB_EXIT_REQUESTED: "We didn't start executing this TB", so
// the dump logged just before it describes a block that never ran and runs again (7.2
// accel/tcg/cpu-exec.c). Without this a syscall interrupted by an exit request counts twice.
// `Stopped execution of TB chain before 0x7fe15e0377c0 [ffffffff81c00080] `
const STOPPED = ascii('Stopped execution of TB chain before 0x');
const LINKING = ascii('Linking');

/** Whether the line is a `Trace N: …` line (well-formed or not). */
export function isTraceLine(bytes: Buffer, start: number, end: number): boolean {
  return hasAt(bytes, start, end, TRACE);
}

/** Whether the line is a `Linking TBs …` line. */
export function isLinkingLine(bytes: Buffer, start: number, end: number): boolean {
  return hasAt(bytes, start, end, LINKING);
}

/** Whether the line is a `Stopped execution of TB chain before 0x…` line. */
export function isStoppedLine(bytes: Buffer, start: number, end: number): boolean {
  return hasAt(bytes, start, end, STOPPED);
}

/**
 * `[cs_base/pc/flags/cflags]` after `Trace N: 0xHOST ` — vCPU and pc, or undefined. The line
 * must be one {@link isTraceLine} accepted.
 */
export function parseTraceLine(
  bytes: Buffer,
  lineStart: number,
  end: number,
): { vcpu: number; pc: bigint } | undefined {
  const start = lineStart + TRACE.length;
  const colon = find(bytes, COLON, start, Math.min(end, start + 5));
  if (colon <= start) return undefined;
  let vcpu = 0;
  for (let i = start; i < colon; i += 1) {
    const digit = decimalDigit(bytes[i] as number);
    if (digit < 0) return undefined;
    vcpu = vcpu * 10 + digit;
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

/**
 * The pc in `… [ffffffff81c00080]` of a `Stopped execution` line ({@link isStoppedLine}), or
 * undefined.
 */
export function stoppedPc(bytes: Buffer, lineStart: number, end: number): bigint | undefined {
  const open = find(bytes, OPEN_BRACKET, lineStart + STOPPED.length, end);
  const close = open < 0 ? -1 : find(bytes, CLOSE_BRACKET, open, end);
  return close < 0 ? undefined : hexBigint(bytes, open + 1, close);
}

/**
 * A log-backend trace event line as a record, or undefined. Only a line that starts with a digit
 * (the `PID@` prefix) or a lowercase letter (an event name) is turned into a string and matched.
 */
export function parseEventLine(
  bytes: Buffer,
  start: number,
  end: number,
): QemuTraceRecord | undefined {
  const first = end > start ? (bytes[start] as number) : 0;
  const event =
    isDigit(first) || isLowerLetter(first)
      ? EVENT_LINE.exec(bytes.toString('utf8', start, end))
      : null;
  if (event === null) return undefined;
  const [, pid, seconds, micros, name, args] = event;
  return {
    kind: 'trace',
    pid: pid === undefined ? null : Number(pid),
    time:
      seconds === undefined || micros === undefined
        ? null
        : BigInt(seconds) * 1_000_000_000n + BigInt(micros) * 1000n,
    name: name as string,
    args: args as string,
  };
}
