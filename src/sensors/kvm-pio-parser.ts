import { MMIO_SIZES, PORT_IO_SIZES, type MmioEvent, type PortIoEvent } from '../events/index.js';
import { parseKvmTraceLine, type KvmMmioRecord, type KvmPioRecord } from './kvm-trace-parser.js';

export type { KvmPioRecord } from './kvm-trace-parser.js';

/** Parses a `kvm_pio` trace_pipe line, or returns undefined for any other line (see kvm-trace-parser.ts). */
export function parseKvmPioLine(line: string): KvmPioRecord | undefined {
  const record = parseKvmTraceLine(line);
  return typeof record === 'object' && record.event === 'pio' ? record : undefined;
}

/**
 * A `kvm_pio` record as a guest event; `epochOffsetNs` converts the monotonic trace clock to epoch
 * time. Undefined for a width `in`/`out` cannot have.
 */
export function kvmPioToEvent(
  record: KvmPioRecord,
  vm: string,
  epochOffsetNs: bigint,
  vcpu: number | null = null,
): PortIoEvent | undefined {
  const size = PORT_IO_SIZES.find((width) => width === record.size);
  if (size === undefined || record.port > 0xffff) return undefined;
  return {
    type: 'port-io',
    vm,
    vcpu,
    time: record.clockNs + epochOffsetNs,
    port: record.port,
    direction: record.direction,
    size,
    value: record.value,
  };
}

/**
 * A completed `kvm_mmio` access as a guest event. Undefined for `unsatisfied-read` (the same read
 * is traced again with its value) and for widths other than 1, 2, 4 and 8 bytes.
 */
export function kvmMmioToEvent(
  record: KvmMmioRecord,
  vm: string,
  epochOffsetNs: bigint,
  vcpu: number | null = null,
): MmioEvent | undefined {
  if (record.type === 'unsatisfied-read') return undefined;
  const size = MMIO_SIZES.find((width) => width === record.size);
  if (size === undefined) return undefined;
  return {
    type: 'mmio',
    vm,
    vcpu,
    time: record.clockNs + epochOffsetNs,
    address: record.address,
    direction: record.type,
    size,
    value: record.value,
  };
}
