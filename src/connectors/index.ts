/**
 * Public surface of `connectors`: clients for QEMU's control channels (QMP, GDB remote protocol).
 */
// QMP (lab/QMP engineer)
export { QmpClient, type QmpClientOptions, type QmpCommandOptions } from './qmp-client.js';
export type {
  QmpCommandName,
  QmpCommands,
  QmpCpuInfoFast,
  QmpDumpGuestMemoryArgs,
  QmpDumpQueryResult,
  QmpKvmInfo,
  QmpStatusInfo,
} from './qmp-commands.js';
export {
  QmpEventName,
  decodeQmpMessage,
  type QmpEvent,
  type QmpGreeting,
  type QmpMessage,
  type QmpVersion,
} from './qmp-message.js';
// GDB remote serial protocol (memory/GDB engineer)
export { GdbClient, type GdbClientOptions } from './gdb-client.js';
export type { BreakpointType } from './gdb-breakpoint.js';
export type { StubFeatures } from './gdb-stub-features.js';
export { GdbConnection, type GdbConnectionOptions } from './gdb-connection.js';
export { startGdbServer, stopGdbServer } from './hmp-gdbserver.js';
export { GdbFramer, type GdbFrame, type GdbFramerOptions } from './gdb-framer.js';
export { decodeGdbPayload, encodeGdbPacket, gdbChecksum } from './gdb-packet.js';
export {
  RIP_REGISTER_NUMBER,
  X86_64_QEMU_REGISTERS,
  decodeGdbRegisters,
  parseTargetXmlRegisters,
  type GdbRegister,
  type X86Registers,
} from './gdb-registers.js';
export { SIGINT, SIGTRAP, isStopReply, parseStopReply, type StopReply } from './gdb-stop-reply.js';
