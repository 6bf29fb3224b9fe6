import type { PortIoEvent } from '../events/index.js';

/**
 * One `kvm:kvm_pio` line of a tracefs `trace_pipe`, e.g.
 * `qemu-system-x86-4242 [001] d..1. 1234.567890: kvm_pio: pio_write at 0x3f5 size 1 count 1 val 0x42`
 * (print fmt from events/kvm/kvm_pio/format; lab-notes.md §8). The task field may itself contain
 * dashes, so it is matched greedily up to the last `-<tid>` before the CPU column.
 */
const KVM_PIO_LINE =
  /^\s*(.*)-(\d+)\s+\[(\d+)\]\s+\S*\s*(\d+)\.(\d+): kvm_pio: pio_(read|write) at 0x([0-9a-f]+) size (\d+) count (\d+) val 0x([0-9a-f]+)/;

export interface KvmPioRecord {
  readonly tid: number;
  /** Trace clock time in nanoseconds (the instance's `trace_clock`, vmsight uses `mono`). */
  readonly clockNs: bigint;
  readonly direction: 'read' | 'write';
  readonly port: number;
  readonly size: number;
  readonly count: number;
  readonly value: number;
}

/** Parses a `kvm_pio` line, or returns undefined for any other line (other events, comments). */
export function parseKvmPioLine(line: string): KvmPioRecord | undefined {
  const m = KVM_PIO_LINE.exec(line);
  if (m === null) return undefined;
  const fraction = (m[5] as string).padEnd(9, '0').slice(0, 9);
  // Attacker-influenced only through the guest's port numbers and values; the kernel prints these
  // as bounded u32 hex, so parseInt cannot exceed 2^32.
  return {
    tid: Number(m[2]),
    clockNs: BigInt(m[4] as string) * 1_000_000_000n + BigInt(fraction),
    direction: m[6] === 'write' ? 'write' : 'read',
    port: Number.parseInt(m[7] as string, 16),
    size: Number(m[8]),
    count: Number(m[9]),
    value: Number.parseInt(m[10] as string, 16),
  };
}

/** The record as a guest event; `epochOffsetNs` converts the monotonic trace clock to epoch time. */
export function kvmPioToEvent(
  record: KvmPioRecord,
  vm: string,
  epochOffsetNs: bigint,
): PortIoEvent | undefined {
  if (record.size !== 1 && record.size !== 2 && record.size !== 4) return undefined;
  return {
    type: 'port-io',
    vm,
    vcpu: null,
    time: record.clockNs + epochOffsetNs,
    port: record.port,
    direction: record.direction,
    size: record.size,
    value: record.value,
  };
}
