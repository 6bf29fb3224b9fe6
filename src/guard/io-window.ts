import type { GuestEvent } from '../events/index.js';

/**
 * A window of one VM's port and MMIO accesses encoded column-wise into typed arrays, so that a
 * batch crosses to the guard worker as transferred buffers instead of structured-cloned objects.
 * Each access is four float64 slots: kind, address, value, size. MMIO addresses and values above
 * 2^53 cannot occur on x86 guests below 8 PiB, so float64 holds them exactly.
 */
export const IoKind = { PORT_READ: 0, PORT_WRITE: 1, MMIO_READ: 2, MMIO_WRITE: 3 } as const;
export type IoKind = (typeof IoKind)[keyof typeof IoKind];

export const IO_STRIDE = 4;

/** One decoded access, as alerts and tests see it. */
export interface IoAccess {
  readonly space: 'port' | 'mmio';
  readonly direction: 'read' | 'write';
  readonly address: number;
  readonly value: number;
  readonly size: number;
  /** Nanoseconds since the Unix epoch, when the source had a clock. */
  readonly time?: bigint;
}

/** An encoded window under construction; `finish()` hands over the buffers. */
export class IoWindowBuilder {
  #io: Float64Array;
  #times: BigInt64Array;
  #count = 0;

  constructor(capacity = 256) {
    this.#io = new Float64Array(capacity * IO_STRIDE);
    this.#times = new BigInt64Array(capacity);
  }

  get count(): number {
    return this.#count;
  }

  /** Appends a port or MMIO event; other event types are ignored (returns false). */
  addEvent(event: GuestEvent): boolean {
    if (event.type === 'port-io') {
      this.add(
        event.direction === 'write' ? IoKind.PORT_WRITE : IoKind.PORT_READ,
        event.port,
        event.value,
        event.size,
        event.time,
      );
      return true;
    }
    if (event.type === 'mmio') {
      this.add(
        event.direction === 'write' ? IoKind.MMIO_WRITE : IoKind.MMIO_READ,
        Number(event.address),
        Number(event.value & 0xffff_ffffn),
        event.size,
        event.time,
      );
      return true;
    }
    return false;
  }

  add(
    kind: IoKind,
    address: number,
    value: number,
    size: number,
    time: bigint | null = null,
  ): void {
    if (this.#count * IO_STRIDE === this.#io.length) this.#grow();
    const at = this.#count * IO_STRIDE;
    this.#io[at] = kind;
    this.#io[at + 1] = address;
    this.#io[at + 2] = value;
    this.#io[at + 3] = size;
    this.#times[this.#count] = time ?? -1n;
    this.#count += 1;
  }

  /** The encoded window, trimmed to its length; the builder starts empty again. */
  finish(): { io: Float64Array; times: BigInt64Array; count: number } {
    const count = this.#count;
    const io = this.#io.slice(0, count * IO_STRIDE);
    const times = this.#times.slice(0, count);
    this.#count = 0;
    return { io, times, count };
  }

  #grow(): void {
    const io = new Float64Array(this.#io.length * 2);
    io.set(this.#io);
    this.#io = io;
    const times = new BigInt64Array(this.#times.length * 2);
    times.set(this.#times);
    this.#times = times;
  }
}

/** Decodes access `index` of an encoded window. */
export function decodeAccess(
  io: Float64Array,
  times: BigInt64Array | undefined,
  index: number,
): IoAccess {
  const at = index * IO_STRIDE;
  const kind = io[at] as IoKind;
  const time = times?.[index];
  return {
    space: kind >= IoKind.MMIO_READ ? 'mmio' : 'port',
    direction: kind === IoKind.PORT_WRITE || kind === IoKind.MMIO_WRITE ? 'write' : 'read',
    address: io[at + 1] as number,
    value: io[at + 2] as number,
    size: io[at + 3] as number,
    ...(time === undefined || time < 0n ? {} : { time }),
  };
}
