/**
 * Public surface of `events`: the typed guest event stream, the vmtrace record/replay format, the
 * system-call tables and the importers for external trace formats. Other folders import only this.
 */
export {
  GuestEventType,
  IoDirection,
  MMIO_SIZES,
  PORT_IO_SIZES,
  VirtioOperation,
  assertNever,
  describeGuestEvent,
  type ContextSwitchEvent,
  type GuestEvent,
  type GuestEventBase,
  type GuestProcess,
  type MmioEvent,
  type PortIoEvent,
  type ProcessExitEvent,
  type ProcessStartEvent,
  type SyscallEvent,
  type VirtioEvent,
} from './guest-event.js';
export { SYSCALL_ABIS, SyscallAbi, SyscallTable, parseSyscallAbi } from './syscall-table.js';
export {
  TraceLabelKind,
  TraceSplit,
  UNKNOWN_PROGRAM,
  type SyscallTrace,
  type TraceLabel,
} from './syscall-trace.js';
export {
  DEFAULT_MAX_BUFFERED_CALLS,
  DEFAULT_MAX_CALLS_PER_TRACE,
  DEFAULT_MAX_OPEN_PROCESSES,
  TraceLimitAction,
  groupSyscallTraces,
  type GroupSyscallTracesOptions,
} from './group-syscall-traces.js';
export {
  VMTRACE_FORMAT,
  VMTRACE_VERSION,
  encodeVmtrace,
  writeVmtrace,
  type EncodeVmtraceOptions,
  type VmtraceHeader,
  type WriteVmtraceOptions,
} from './vmtrace-writer.js';
export { decodeVmtrace, readVmtrace, type DecodeVmtraceOptions } from './vmtrace-reader.js';
export {
  decompressIfZstd,
  isZstdFrame,
  readTraceFile,
  type ReadTraceFileOptions,
} from './trace-file.js';
export {
  adfaLdLabel,
  parseAdfaLdTrace,
  readAdfaLd,
  type AdfaLdOptions,
} from './adfa-ld-importer.js';
export { parseStrace, readStrace, type StraceOptions } from './strace-importer.js';
export { parseAuditLog, readAuditLog, type AuditLogOptions } from './auditd-importer.js';
export {
  parseDrakvuf,
  readDrakvuf,
  type DrakvufCounts,
  type DrakvufOptions,
} from './drakvuf-importer.js';
export {
  TraceFormat,
  isTraceFormat,
  readGuestEvents,
  readSyscallTraces,
  type EventStreamFormat,
  type ReadTracesOptions,
} from './read-syscall-traces.js';
