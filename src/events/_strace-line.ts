import { VmsightError } from '../core/index.js';
import { inputError, type InputPosition } from './_input-error.js';

/**
 * Classifies one line of `strace` output (strace(1), "DESCRIPTION" and options `-f`, `-o`, `-t`,
 * `-tt`, `-ttt`, `-T`). Pure functions, no state: joining `<unfinished ...>` with
 * `<... resumed>` and tracking processes happen in strace-importer.ts.
 *
 * A line is `[prefix] [timestamp] body`, where prefix is `[pid N] ` (`-f` to a terminal or pipe)
 * or `N  ` (`-f -o FILE`), and the timestamp is `HH:MM:SS` (`-t`), `HH:MM:SS.micro` (`-tt`) or
 * `seconds.micro` (`-ttt`).
 */

export type StraceBody =
  /** `name(args) = ret [errno] [(text)] [<duration>]` */
  | { readonly kind: 'call'; readonly name: string; readonly args: string; readonly result: string }
  /** `name(args <unfinished ...>`: the head waits for its `resumed` line. */
  | { readonly kind: 'unfinished'; readonly head: string }
  /** `<... name resumed> rest`: the tail of an unfinished call. */
  | { readonly kind: 'resumed'; readonly name: string; readonly tail: string }
  | { readonly kind: 'signal'; readonly signal: string }
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'killed'; readonly signal: string }
  /** `[ Process PID=N runs in 32 bit mode. ]`: the personality (ABI) changed. */
  | { readonly kind: 'personality'; readonly pid: number; readonly bits: 32 | 64 | 'x32' }
  /** A call cut off before `) = `: the line is truncated. */
  | { readonly kind: 'truncated'; readonly name: string }
  | { readonly kind: 'other' };

export interface StraceLine {
  readonly pid: number | undefined;
  /** Nanoseconds: since the epoch for `-ttt`, since midnight for `-t`/`-tt`. */
  readonly time: bigint | undefined;
  readonly timeOfDay: boolean;
  readonly body: StraceBody;
  /** 1-based column where the body starts, for error messages. */
  readonly bodyColumn: number;
}

const PREFIX = /^(?:\[pid\s+(\d+)\]\s|(\d+)\s+)/;
const TIME_OF_DAY = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\s+/;
/** `-ttt`, and `-r` (relative seconds, right-aligned), which reads as a time near the epoch. */
const EPOCH = /^\s*(\d+)\.(\d{1,9})\s+/;
const NAME = /^([a-z_][a-z0-9_]*|syscall_0x[0-9a-f]+)\(/;
const RESUMED = /^<\.\.\. ([a-z_][a-z0-9_]*|syscall_0x[0-9a-f]+) resumed>(.*)$/;
const UNFINISHED = ' <unfinished ...>';
const SIGNAL = /^--- (SIG[A-Z0-9+-]+|stopped by SIG[A-Z0-9]+)\b.* ---$/;
const EXITED = /^\+\+\+ exited with (\d+) \+\+\+$/;
const KILLED = /^\+\+\+ killed by (SIG[A-Z0-9+-]+)(?: \(core dumped\))? \+\+\+$/;
const PERSONALITY = /^\[ Process PID=(\d+) runs in (32|64|x32) bit mode\. \]$/;
/** Return value: decimal, hex (mmap, brk) or `?` (exit_group, or unknown after a detach). */
const RESULT = /^(-?\d+|0x[0-9a-f]+|\?)(?=$|\s)/;

const NS_PER_SECOND = 1_000_000_000n;

/** Splits off prefix and timestamp, then classifies the body. */
export function parseStraceLine(text: string): StraceLine {
  let rest = text;
  let pid: number | undefined;
  const prefix = PREFIX.exec(rest);
  if (prefix !== null) {
    pid = Number(prefix[1] ?? prefix[2]);
    rest = rest.slice(prefix[0].length);
  }
  let time: bigint | undefined;
  let timeOfDay = false;
  const clock = TIME_OF_DAY.exec(rest);
  if (clock !== null) {
    const seconds = Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
    time = BigInt(seconds) * NS_PER_SECOND + fraction(clock[4]);
    timeOfDay = true;
    rest = rest.slice(clock[0].length);
  } else {
    const epoch = EPOCH.exec(rest);
    if (epoch !== null) {
      time = BigInt(epoch[1] as string) * NS_PER_SECOND + fraction(epoch[2]);
      rest = rest.slice(epoch[0].length);
    }
  }
  const bodyColumn = text.length - rest.length + 1;
  return { pid, time, timeOfDay, body: classify(rest), bodyColumn };
}

function fraction(digits: string | undefined): bigint {
  return digits === undefined ? 0n : BigInt(digits.padEnd(9, '0'));
}

function classify(body: string): StraceBody {
  if (body.endsWith(UNFINISHED)) {
    return { kind: 'unfinished', head: body.slice(0, -UNFINISHED.length) };
  }
  const resumed = RESUMED.exec(body);
  if (resumed !== null) {
    return { kind: 'resumed', name: resumed[1] as string, tail: resumed[2] as string };
  }
  const name = NAME.exec(body);
  if (name !== null) {
    return splitCall(name[1] as string, body);
  }
  const signal = SIGNAL.exec(body);
  if (signal !== null) return { kind: 'signal', signal: signal[1] as string };
  const exited = EXITED.exec(body);
  if (exited !== null) return { kind: 'exited', code: Number(exited[1]) };
  const killed = KILLED.exec(body);
  if (killed !== null) return { kind: 'killed', signal: killed[1] as string };
  const personality = PERSONALITY.exec(body);
  if (personality !== null) {
    const bits = personality[2] === 'x32' ? 'x32' : personality[2] === '32' ? 32 : 64;
    return { kind: 'personality', pid: Number(personality[1]), bits };
  }
  return { kind: 'other' };
}

/**
 * Splits `name(args) = result` at the last `)` + padding + `= ` followed by a valid return value:
 * quoted arguments may themselves contain `) = `.
 */
export function splitCall(name: string, body: string): StraceBody {
  const separator = /\)\s*= /g;
  let found: { args: string; result: string } | undefined;
  for (let match = separator.exec(body); match !== null; match = separator.exec(body)) {
    const result = body.slice(match.index + match[0].length);
    if (RESULT.test(result)) {
      found = { args: body.slice(name.length + 1, match.index), result };
    }
  }
  if (found === undefined) return { kind: 'truncated', name };
  return { kind: 'call', name, ...found };
}

/** The parts of a call's result text: `-1 ENOENT (No such file or directory) <0.000011>`. */
export interface StraceResult {
  readonly value: bigint | undefined;
  readonly errorName: string | undefined;
}

export function parseStraceResult(result: string): StraceResult {
  const value = RESULT.exec(result)?.[1];
  const errorName = /^-\d+ (E[A-Z0-9]+)\b/.exec(result)?.[1];
  return {
    value: value === undefined || value === '?' ? undefined : BigInt(value),
    errorName,
  };
}

/**
 * The first argument when it is a string (`execve("/bin/ls", …)`), with strace's C-style escapes
 * (`\"`, `\\`, `\n`, `\t`, octal `\ooo`, `\xHH` with `-x`) decoded.
 */
export function firstStringArgument(args: string): string | undefined {
  const match = /^"((?:[^"\\]|\\.)*)"/.exec(args);
  if (match === null) return undefined;
  return (match[1] as string).replace(
    /\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g,
    (_all, escape: string) => {
      if (escape.startsWith('x')) return String.fromCharCode(parseInt(escape.slice(1), 16));
      if (/^[0-7]/.test(escape)) return String.fromCharCode(parseInt(escape, 8));
      return ESCAPES[escape] ?? escape;
    },
  );
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' };

/**
 * Linux's `PID_MAX_LIMIT` (2^22 on 64-bit kernels): a larger pid in the text is corrupt input, and
 * would not survive the vmtrace round trip.
 */
const MAX_PID = 4_194_304;

export function checkPid<T extends number | undefined>(pid: T, at: InputPosition): T {
  if (pid !== undefined && !(pid <= MAX_PID)) {
    throw inputError(at, `a process id up to ${MAX_PID}`, String(pid));
  }
  return pid;
}

/** Nanoseconds since the epoch at 00:00 UTC of `date` (`YYYY-MM-DD`), the day of `-t`/`-tt` times. */
export function dayStartNs(date: string, source: string): bigint {
  const millis = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (Number.isNaN(millis)) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot read ${JSON.stringify(source)}: the date ${JSON.stringify(date)} is not YYYY-MM-DD`,
    );
  }
  return BigInt(millis) * 1_000_000n;
}
