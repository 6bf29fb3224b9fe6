import type { SyscallAbi } from './syscall-table.js';

/**
 * The kinds of {@link GuestEvent}, one per member of the union.
 *
 * @example
 * ```ts
 * if (event.type === GuestEventType.SYSCALL) console.log(event.nr);
 * ```
 */
export const GuestEventType = {
  SYSCALL: 'syscall',
  PORT_IO: 'port-io',
  MMIO: 'mmio',
  VIRTIO: 'virtio',
  CONTEXT_SWITCH: 'context-switch',
  PROCESS_START: 'process-start',
  PROCESS_EXIT: 'process-exit',
} as const;
export type GuestEventType = (typeof GuestEventType)[keyof typeof GuestEventType];

/**
 * Whether the guest read from or wrote to a port or a memory-mapped register.
 *
 * @example
 * ```ts
 * const direction: IoDirection = IoDirection.WRITE; // 'write'
 * ```
 */
export const IoDirection = { READ: 'read', WRITE: 'write' } as const;
export type IoDirection = (typeof IoDirection)[keyof typeof IoDirection];

/**
 * What a virtio request did: QEMU's `virtio_blk_*` / `virtqueue_*` trace events distinguish data
 * transfers, cache flushes, discards and the guest's queue notification (the "kick").
 *
 * @example
 * ```ts
 * const operation: VirtioOperation = VirtioOperation.NOTIFY; // 'notify'
 * ```
 */
export const VirtioOperation = {
  READ: 'read',
  WRITE: 'write',
  FLUSH: 'flush',
  DISCARD: 'discard',
  NOTIFY: 'notify',
  OTHER: 'other',
} as const;
export type VirtioOperation = (typeof VirtioOperation)[keyof typeof VirtioOperation];

/**
 * Access widths in bytes that an x86 `in`/`out` instruction can use.
 *
 * @example
 * ```ts
 * PORT_IO_SIZES.includes(4); // true
 * ```
 */
export const PORT_IO_SIZES = [1, 2, 4] as const;
/**
 * Access widths in bytes of an MMIO access as QEMU reports them.
 *
 * @example
 * ```ts
 * MMIO_SIZES.includes(8); // true
 * ```
 */
export const MMIO_SIZES = [1, 2, 4, 8] as const;

/**
 * A guest task as far as the source knows it. `pid` is the kernel's task id (a thread id for
 * threads), `tgid` the thread-group (userspace process) id. `programKey` groups traces of one
 * program for per-program models: the executable path when known, otherwise `comm`.
 *
 * @example
 * ```ts
 * const shell: GuestProcess = { pid: 42, tgid: 42, comm: 'sh', programKey: '/bin/sh' };
 * ```
 */
export interface GuestProcess {
  readonly pid: number;
  readonly tgid: number;
  /** The kernel's 16-byte `task_struct.comm`, or the executable's base name for imports. */
  readonly comm: string;
  readonly programKey: string;
}

/**
 * Fields shared by every event.
 *
 * `time` is nanoseconds since the Unix epoch as a `bigint`: QEMU and ftrace clocks have nanosecond
 * resolution and epoch nanoseconds exceed 2^53. It is `null` when the source carries no clock
 * (ADFA-LD, strace without `-t`). `vcpu` is `null` when the source does not say (imports).
 *
 * @example
 * ```ts
 * const base: GuestEventBase = { vm: 'lab', vcpu: null, time: null };
 * ```
 */
export interface GuestEventBase {
  /** The VM's id as vmsight names it (an import uses the option `vm` or the file's base name). */
  readonly vm: string;
  readonly vcpu: number | null;
  readonly time: bigint | null;
  readonly process?: GuestProcess;
}

/**
 * A system call entry (and its return value when the source saw the return).
 *
 * @example
 * ```ts
 * const openat: SyscallEvent = { type: 'syscall', vm: 'lab', vcpu: 0, time: null, abi: 'x86-64', nr: 257, name: 'openat', returnValue: -2n };
 * ```
 */
export interface SyscallEvent extends GuestEventBase {
  readonly type: 'syscall';
  readonly abi: SyscallAbi;
  readonly nr: number;
  /** Name from the ABI's table, absent for numbers the table does not know. */
  readonly name?: string;
  /** Raw argument registers, when the source records them (auditd records only a0..a3). */
  readonly args?: readonly bigint[];
  /** The kernel's return value (negative errno on failure), when the call returned. */
  readonly returnValue?: bigint;
  /** Symbolic error such as `ENOENT`, when the source prints one. */
  readonly errorName?: string;
  /** The path argument (execve, open, openat, …) as read from guest memory at entry. */
  readonly path?: string;
  /** execve's argv as read from guest memory at entry (the first ones, each cut to a bound). */
  readonly argv?: readonly string[];
  /** connect's socket address, `1.2.3.4:80`, `[::1]:22` or `unix:/path`, read at entry. */
  readonly address?: string;
}

/**
 * An x86 `in` or `out` instruction that trapped to the hypervisor (KVM `kvm_pio`).
 *
 * @example
 * ```ts
 * const serial: PortIoEvent = { type: 'port-io', vm: 'lab', vcpu: 0, time: null, port: 0x3f8, direction: 'write', size: 1, value: 0x41 };
 * ```
 */
export interface PortIoEvent extends GuestEventBase {
  readonly type: 'port-io';
  readonly port: number;
  readonly direction: IoDirection;
  readonly size: (typeof PORT_IO_SIZES)[number];
  readonly value: number;
}

/**
 * A guest access to an emulated device register (KVM `kvm_mmio`, QEMU `memory_region_ops_*`).
 *
 * @example
 * ```ts
 * const mmio: MmioEvent = { type: 'mmio', vm: 'lab', vcpu: 0, time: null, address: 0xfebf1000n, direction: 'read', size: 4, value: 0n };
 * ```
 */
export interface MmioEvent extends GuestEventBase {
  readonly type: 'mmio';
  readonly address: bigint;
  readonly direction: IoDirection;
  readonly size: (typeof MMIO_SIZES)[number];
  readonly value: bigint;
  /** QEMU's memory region name (for example `virtio-pci-common`), when known. */
  readonly region?: string;
}

/**
 * A virtio request or queue notification.
 *
 * @example
 * ```ts
 * const kick: VirtioEvent = { type: 'virtio', vm: 'lab', vcpu: 0, time: null, device: 'virtio-blk-pci', queue: 0, operation: 'notify' };
 * ```
 */
export interface VirtioEvent extends GuestEventBase {
  readonly type: 'virtio';
  /** QEMU device id or type, for example `virtio-blk-pci` or `drive0`. */
  readonly device: string;
  readonly queue: number;
  readonly operation: VirtioOperation;
  /** First 512-byte sector of a block request. */
  readonly sector?: bigint;
  /** Request length in bytes. */
  readonly length?: number;
}

/**
 * The guest scheduler switched a vCPU from one task to another.
 *
 * @example
 * ```ts
 * const sw: ContextSwitchEvent = { type: 'context-switch', vm: 'lab', vcpu: 1, time: null, from: idle, to: shell };
 * ```
 */
export interface ContextSwitchEvent extends GuestEventBase {
  readonly type: 'context-switch';
  readonly from: GuestProcess;
  readonly to: GuestProcess;
}

/**
 * A task came into existence or executed a new program image.
 *
 * @example
 * ```ts
 * const start: ProcessStartEvent = { type: 'process-start', vm: 'lab', vcpu: 0, time: null, process: shell, parentPid: 1 };
 * ```
 */
export interface ProcessStartEvent extends GuestEventBase {
  readonly type: 'process-start';
  readonly process: GuestProcess;
  readonly parentPid?: number;
}

/**
 * A task ended.
 *
 * @example
 * ```ts
 * const exit: ProcessExitEvent = { type: 'process-exit', vm: 'lab', vcpu: 0, time: null, process: shell, exitCode: 0 };
 * ```
 */
export interface ProcessExitEvent extends GuestEventBase {
  readonly type: 'process-exit';
  readonly process: GuestProcess;
  /** Exit status, when the task exited normally. */
  readonly exitCode?: number;
  /** Signal name such as `SIGKILL`, when a signal ended the task. */
  readonly signal?: string;
}

/**
 * One observation of a guest, from a live sensor or an imported trace. Switch on `type`.
 *
 * @example
 * ```ts
 * import type { GuestEvent } from './guest-event.js';
 * const event: GuestEvent = {
 *   type: 'port-io', vm: 'lab', vcpu: 0, time: 1_700_000_000_000_000_000n,
 *   port: 0x3f8, direction: 'write', size: 1, value: 0x41,
 * };
 * ```
 */
export type GuestEvent =
  | SyscallEvent
  | PortIoEvent
  | MmioEvent
  | VirtioEvent
  | ContextSwitchEvent
  | ProcessStartEvent
  | ProcessExitEvent;

/**
 * A one-line human description of an event, for logs and `--verbose` output.
 *
 * @example
 * ```ts
 * import { describeGuestEvent } from './guest-event.js';
 * describeGuestEvent({ type: 'syscall', vm: 'lab', vcpu: null, time: null, abi: 'x86-64', nr: 0, name: 'read' });
 * // 'syscall read (x86-64 0)'
 * ```
 */
export function describeGuestEvent(event: GuestEvent): string {
  switch (event.type) {
    case 'syscall':
      return `syscall ${event.name ?? '?'} (${event.abi} ${event.nr})`;
    case 'port-io':
      return `port-io ${event.direction} port 0x${event.port.toString(16)} size ${event.size}`;
    case 'mmio':
      return `mmio ${event.direction} 0x${event.address.toString(16)} size ${event.size}`;
    case 'virtio':
      return `virtio ${event.operation} ${event.device} queue ${event.queue}`;
    case 'context-switch':
      return `context-switch ${event.from.pid} -> ${event.to.pid}`;
    case 'process-start':
      return `process-start ${event.process.pid} ${event.process.programKey}`;
    case 'process-exit':
      return `process-exit ${event.process.pid}`;
    default:
      return assertNever(event);
  }
}

/**
 * Compile-time exhaustiveness check for switches over closed unions.
 *
 * @example
 * ```ts
 * switch (event.type) {
 *   // ...one case per event type...
 *   default:
 *     assertNever(event); // a compile error when a type has no case
 * }
 * ```
 */
export function assertNever(value: never): never {
  throw new TypeError(`Unexpected value ${JSON.stringify(value)}`);
}
