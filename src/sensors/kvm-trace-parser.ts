/**
 * Lines of a tracefs `trace_pipe` carrying KVM's I/O and exit tracepoints, for example
 * `qemu-system-x86-4242 [001] ..... 1234.567890: kvm_mmio: mmio write len 4 gpa 0xfe800000 val 0x12345678`.
 * The texts follow each event's `print fmt` (events/kvm/{kvm_pio,kvm_mmio,kvm_exit}/format on the
 * host, lab-notes.md §8):
 * - kvm_pio:  `pio_%s at 0x%x size %d count %d val 0x%x %s` (`(...)` after a `rep ins/outs`);
 * - kvm_mmio: `mmio %s len %u gpa 0x%llx val 0x%llx`, type `unsatisfied-read`, `read` or `write`;
 *   a read QEMU completes is traced twice: `unsatisfied-read` when it leaves for user space (no
 *   value yet), then `read` with the value when the vCPU resumes (arch/x86/kvm/x86.c);
 * - kvm_exit: `vcpu %u reason %s%s%s rip 0x%lx …`, the reason a VMX/SVM name (or a flag after it).
 */

/** The part every trace_pipe line starts with: task-tid, [cpu], flags, seconds.fraction, event. */
const HEADER = /^\s*.*-(\d+)\s+\[(\d+)\]\s+\S*\s*(\d+)\.(\d+): (\w+): /;
const PIO = /^pio_(read|write) at 0x([0-9a-f]+) size (\d+) count (\d+) val 0x([0-9a-f]+)/;
const MMIO = /^mmio (unsatisfied-read|read|write) len (\d+) gpa 0x([0-9a-f]+) val 0x([0-9a-f]+)/;
const EXIT = /^vcpu (\d+) reason (.*?) rip 0x([0-9a-f]+)/;
/** Longest hex accepted for a 64-bit field: anything longer is not what the kernel prints. */
const MAX_HEX64 = 16;

interface KvmTraceHeader {
  /** Host thread id of the vCPU thread that hit the tracepoint. */
  readonly tid: number;
  /** Trace clock time in nanoseconds (the instance's `trace_clock`; vmsight uses `mono`). */
  readonly clockNs: bigint;
}

export interface KvmPioRecord extends KvmTraceHeader {
  readonly event: 'pio';
  readonly direction: 'read' | 'write';
  readonly port: number;
  readonly size: number;
  /** Repeat count of a `rep ins/outs` (the value is the first element's). */
  readonly count: number;
  readonly value: number;
}

export interface KvmMmioRecord extends KvmTraceHeader {
  readonly event: 'mmio';
  /** `unsatisfied-read` is a read on its way to user space: the value comes with its `read`. */
  readonly type: 'read' | 'write' | 'unsatisfied-read';
  readonly size: number;
  readonly address: bigint;
  readonly value: bigint;
}

export interface KvmExitRecord extends KvmTraceHeader {
  readonly event: 'exit';
  readonly vcpu: number;
  readonly reason: string;
  readonly rip: bigint;
}

export type KvmTraceRecord = KvmPioRecord | KvmMmioRecord | KvmExitRecord;

/** KVM events vmsight decodes, as `system:event` names for the instance. */
export const KVM_TRACE_EVENTS = ['kvm:kvm_pio', 'kvm:kvm_mmio', 'kvm:kvm_exit'] as const;

/**
 * Parses one trace_pipe line. Returns undefined for lines of other events (markers, `LOST`
 * notices) and `'malformed'` for a KVM event whose text is not the format above.
 */
export function parseKvmTraceLine(line: string): KvmTraceRecord | 'malformed' | undefined {
  const header = HEADER.exec(line);
  if (header === null) return undefined;
  const name = header[5];
  if (name !== 'kvm_pio' && name !== 'kvm_mmio' && name !== 'kvm_exit') return undefined;
  const body = line.slice(header[0].length);
  const fraction = (header[4] as string).padEnd(9, '0').slice(0, 9);
  const base = {
    tid: Number(header[1]),
    clockNs: BigInt(header[3] as string) * 1_000_000_000n + BigInt(fraction),
  };
  if (name === 'kvm_pio') {
    const m = PIO.exec(body);
    // The kernel prints these as u32 hex; more than 8 digits is not its output.
    if (m === null || (m[2] as string).length > 8 || (m[5] as string).length > 8) {
      return 'malformed';
    }
    return {
      ...base,
      event: 'pio',
      direction: m[1] === 'write' ? 'write' : 'read',
      port: Number.parseInt(m[2] as string, 16),
      size: Number(m[3]),
      count: Number(m[4]),
      value: Number.parseInt(m[5] as string, 16),
    };
  }
  if (name === 'kvm_mmio') {
    const m = MMIO.exec(body);
    if (m === null || (m[3] as string).length > MAX_HEX64 || (m[4] as string).length > MAX_HEX64) {
      return 'malformed';
    }
    return {
      ...base,
      event: 'mmio',
      type: m[1] as KvmMmioRecord['type'],
      size: Number(m[2]),
      address: BigInt(`0x${m[3] as string}`),
      value: BigInt(`0x${m[4] as string}`),
    };
  }
  const m = EXIT.exec(body);
  if (m === null || (m[3] as string).length > MAX_HEX64 || (m[2] as string).length > 64) {
    return 'malformed';
  }
  return {
    ...base,
    event: 'exit',
    vcpu: Number(m[1]),
    reason: m[2] as string,
    rip: BigInt(`0x${m[3] as string}`),
  };
}
