/**
 * Public surface of `sensors`: live capture of guest events from a running hypervisor (ARCHITECTURE.md
 * "Capture on a real hypervisor"). Every sensor implements `Sensor` and yields `GuestEvent`s.
 */
export { OverflowPolicy, type Sensor, type SensorStats } from './sensor.js';
export {
  BoundedEventQueue,
  DEFAULT_QUEUE_CAPACITY,
  type BoundedEventQueueOptions,
} from './bounded-event-queue.js';
export type {
  QemuTraceRecord,
  TcgExecRecord,
  TcgLogRecord,
  TcgRegisters,
} from './tcg-log-record.js';
export {
  TcgLogParser,
  parseTcgLog,
  type TcgLogParserOptions,
  type TcgLogParserStats,
} from './tcg-log-parser.js';
export { IO_TRACE_EVENTS, IoTraceDecoder, type IoTraceDecoderOptions } from './io-trace-decoder.js';
export {
  RamTaskReader,
  programKey,
  taskLayoutFromSymbols,
  taskLayoutFromVmlinux,
  type RamTaskReaderOptions,
  type TaskLayout,
  type TaskReader,
} from './guest-task-reader.js';
export {
  TcgEventDecoder,
  type TcgEventDecoderOptions,
  type TcgProbeAddresses,
} from './tcg-event-decoder.js';
export { createLogFifo, type LogFifo } from './log-fifo.js';
export { MIN_PIPE_CAPACITY, setPipeCapacity } from './pipe-capacity.js';
export { SyscallArgumentReader, type SyscallArguments } from './syscall-argument-reader.js';
export {
  TcgSensor,
  tcgSensorQemuArgs,
  type SensorMonitor,
  type TcgSensorOptions,
} from './tcg-sensor.js';
// KVM host-side port I/O capture (guard engineer)
export {
  kvmMmioToEvent,
  kvmPioToEvent,
  parseKvmPioLine,
  type KvmPioRecord,
} from './kvm-pio-parser.js';
export { KvmPioTrace } from './kvm-trace-instance.js';
// KVM ftrace sensor and GDB breakpoint sensor (issue 5)
export {
  KVM_TRACE_EVENTS,
  parseKvmTraceLine,
  type KvmExitRecord,
  type KvmMmioRecord,
  type KvmTraceRecord,
} from './kvm-trace-parser.js';
export { TracefsInstance, type TracefsInstanceOptions } from './tracefs-instance.js';
export {
  KvmSensor,
  type KvmSensorOptions,
  type KvmSensorStats,
  type VcpuThreadSource,
} from './kvm-sensor.js';
export { GdbSensor, type GdbSensorOptions, type GdbSensorStats } from './gdb-sensor.js';
export {
  KvmAttributedSensor,
  type KvmAttributedSensorOptions,
  type KvmAttributedSensorStats,
} from './kvm-attributed-sensor.js';
export {
  parseKallsymsText,
  probeAddressesFromArgs,
  probeAddressesOfProcess,
} from './qemu-probe-args.js';
export { FifoReader } from './fifo-reader.js';
