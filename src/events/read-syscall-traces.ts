import { VmsightError } from '../core/index.js';
import { readAdfaLd, type AdfaLdOptions } from './adfa-ld-importer.js';
import { readAuditLog, type AuditLogOptions } from './auditd-importer.js';
import { readDrakvuf, type DrakvufOptions } from './drakvuf-importer.js';
import { assertNever, type GuestEvent } from './guest-event.js';
import { groupSyscallTraces, type GroupSyscallTracesOptions } from './group-syscall-traces.js';
import { readStrace, type StraceOptions } from './strace-importer.js';
import type { SyscallTrace } from './syscall-trace.js';
import { readVmtrace, type DecodeVmtraceOptions } from './vmtrace-reader.js';

/**
 * Trace formats the CLI's `--format` accepts.
 *
 * @example
 * ```ts
 * const format: TraceFormat = TraceFormat.STRACE; // 'strace'
 * ```
 */
export const TraceFormat = {
  ADFA: 'adfa',
  STRACE: 'strace',
  AUDITD: 'auditd',
  VMTRACE: 'vmtrace',
  DRAKVUF: 'drakvuf',
} as const;
export type TraceFormat = (typeof TraceFormat)[keyof typeof TraceFormat];

/**
 * Formats that hold a stream of events (ADFA-LD holds bare call numbers).
 *
 * @example
 * ```ts
 * const format: EventStreamFormat = 'auditd';
 * ```
 */
export type EventStreamFormat = Exclude<TraceFormat, 'adfa'>;

/**
 * Every option of every format; each reader takes the ones that concern it.
 *
 * @example
 * ```ts
 * readSyscallTraces('strace', 'ls.strace', { maxOpenProcesses: 128, unknownSyscalls: 'skip' });
 * ```
 */
export type ReadTracesOptions = Omit<
  AdfaLdOptions &
    StraceOptions &
    AuditLogOptions &
    DecodeVmtraceOptions &
    DrakvufOptions &
    GroupSyscallTracesOptions,
  'source'
>;

/**
 * True when `text` names a {@link TraceFormat}: for validating `--format`.
 *
 * @example
 * ```ts
 * import { isTraceFormat } from './read-syscall-traces.js';
 * isTraceFormat('strace'); // true
 * ```
 */
export function isTraceFormat(text: string): text is TraceFormat {
  return (Object.values(TraceFormat) as string[]).includes(text);
}

/**
 * Reads the events of a strace, auditd, vmtrace or DRAKVUF (`-o json`) file.
 *
 * @example
 * ```ts
 * import { readGuestEvents } from './read-syscall-traces.js';
 * for await (const event of readGuestEvents('auditd', '/var/log/audit/audit.log')) {
 *   if (event.type === 'syscall') console.log(event.name);
 * }
 * ```
 */
export function readGuestEvents(
  format: EventStreamFormat,
  path: string,
  options: ReadTracesOptions = {},
): AsyncGenerator<GuestEvent> {
  switch (format) {
    case 'strace':
      return readStrace(path, options);
    case 'auditd':
      return readAuditLog(path, options);
    case 'vmtrace':
      return readVmtrace(path, options);
    case 'drakvuf':
      return readDrakvuf(path, options);
    default:
      return assertNever(format);
  }
}

/**
 * The one entry point for training and scoring input: system-call traces from any format. ADFA-LD
 * gives one trace per file (a file or the dataset folder, in sorted order, labelled from the
 * layout); strace, auditd, vmtrace and drakvuf give one trace per process and program image, flushed at
 * process exit and at the end of input, within the bounds of {@link GroupSyscallTracesOptions}.
 *
 * @example
 * ```ts
 * import { readSyscallTraces } from './read-syscall-traces.js';
 * for await (const trace of readSyscallTraces('adfa', '../shared/datasets/adfa-ld')) {
 *   console.log(trace.id, trace.label?.kind, trace.calls.length);
 * }
 * ```
 */
export function readSyscallTraces(
  format: TraceFormat,
  path: string,
  options: ReadTracesOptions = {},
): AsyncGenerator<SyscallTrace> {
  if (!isTraceFormat(format)) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot read ${JSON.stringify(path)}: unknown trace format ${JSON.stringify(format)}`,
    );
  }
  if (format === 'adfa') return readAdfaLd(path, options);
  return groupSyscallTraces(readGuestEvents(format, path, options), { ...options, source: path });
}
