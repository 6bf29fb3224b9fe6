/**
 * What QEMU's debug log (`-D`) carries once `-d cpu,exec` and log-backend trace events are on:
 * one register dump per translation block executed inside a `-dfilter` range (lab-notes §4b), and
 * one line per enabled trace event (§5).
 */

/** The registers vmsight reads from a `cpu` dump; all are 64-bit values as QEMU prints them. */
export interface TcgRegisters {
  readonly rax: bigint;
  readonly rdi: bigint;
  readonly rsi: bigint;
  readonly rdx: bigint;
  readonly r10: bigint;
  readonly r8: bigint;
  readonly r9: bigint;
  readonly cr3: bigint;
}

/** A `Trace N: … [cs_base/pc/flags/cflags]` line and the register dump after it. */
export interface TcgExecRecord {
  readonly kind: 'exec';
  /** QEMU's cpu_index, the `N` of `Trace N:`. */
  readonly vcpu: number;
  /** Guest virtual address of the translation block (the `-dfilter` address that matched). */
  readonly pc: bigint;
  readonly registers: TcgRegisters;
}

/**
 * A log-backend trace event line. With `-msg timestamp=on` QEMU prefixes
 * `PID@SECONDS.MICROSECONDS:`; without it `pid` and `time` are null.
 */
export interface QemuTraceRecord {
  readonly kind: 'trace';
  readonly pid: number | null;
  /** Host wall clock in nanoseconds since the epoch. */
  readonly time: bigint | null;
  readonly name: string;
  /** The text after the event name, for example `cpu 0 mr 0x… addr 0x3f8 value 0x41 size 1 name 'serial'`. */
  readonly args: string;
}

export type TcgLogRecord = TcgExecRecord | QemuTraceRecord;
