import type { GuestEvent, MmioEvent, PortIoEvent, VirtioEvent } from '../events/index.js';
import type { QemuTraceRecord } from './tcg-log-record.js';

/**
 * The QEMU 7.2 trace events the I/O decoder understands, as `trace-event-set-state` names
 * (lab-notes §5: these fire under TCG; `cpu_in`/`cpu_out` never do in 7.2, port I/O shows up in
 * `memory_region_ops_*`).
 */
export const IO_TRACE_EVENTS = [
  'memory_region_ops_read',
  'memory_region_ops_write',
  'virtio_queue_notify',
  'virtqueue_pop',
  'virtio_blk_handle_read',
  'virtio_blk_handle_write',
] as const;

/** Limits on state built from trace lines (device and queue pointers are unbounded input). */
export interface IoTraceDecoderOptions {
  /** VM id put on every event. */
  readonly vm: string;
  /** Most virtqueues remembered for `virtqueue_pop` → queue index. Default 1024. */
  readonly maxQueues?: number;
}

// hw/core/trace-events (softmmu/trace-events in 7.2): memory_region_ops_read/write
// "cpu %d mr %p addr 0x%"PRIx64" value 0x%"PRIx64" size %u name '%s'".
const MEMORY_REGION_OPS =
  /^cpu (-?\d{1,4}) mr 0x[0-9a-f]+ addr 0x([0-9a-f]{1,16}) value 0x([0-9a-f]{1,16}) size (\d{1,2}) name '([^']{0,128})'$/;
// hw/virtio/trace-events: virtio_queue_notify "vdev %p n %d vq %p".
const QUEUE_NOTIFY = /^vdev (0x[0-9a-f]+|\(nil\)) n (\d{1,5}) vq (0x[0-9a-f]+)$/;
// virtqueue_pop "vq %p elem %p in_num %u out_num %u".
const QUEUE_POP = /^vq (0x[0-9a-f]+) elem 0x[0-9a-f]+ in_num (\d{1,10}) out_num (\d{1,10})$/;
// hw/block/trace-events: virtio_blk_handle_read/write "vdev %p req %p sector %"PRIu64" nsectors %zu".
const BLK_REQUEST = /^vdev (0x[0-9a-f]+) req 0x[0-9a-f]+ sector (\d{1,20}) nsectors (\d{1,10})$/;

/**
 * Port I/O and MMIO share `memory_region_ops_*`; the address is absolute in its address space. On
 * the PC machine no MMIO region lies below 64 KiB (that is RAM), and the I/O space is 64 KiB, so
 * an address below 0x10000 with an `in`/`out` width is port I/O.
 */
const PORT_SPACE_END = 0x1_0000n;
const SECTOR_BYTES = 512;

/**
 * Turns QEMU I/O trace records into `port-io`, `mmio` and `virtio` events. Stateful: it learns
 * which virtqueue pointer is which queue index from `virtio_queue_notify`, and which device
 * pointer is a virtio-blk from its request events.
 *
 * @example
 * ```ts
 * import { IoTraceDecoder } from './io-trace-decoder.js';
 * const decoder = new IoTraceDecoder({ vm: 'lab' });
 * decoder.decode({ kind: 'trace', pid: 1, time: 0n, name: 'virtio_queue_notify', args: 'vdev 0x1 n 0 vq 0x2' });
 * ```
 */
export class IoTraceDecoder {
  readonly #vm: string;
  readonly #maxQueues: number;
  readonly #queues = new Map<string, { device: string; queue: number }>();
  readonly #blockDevices = new Set<string>();

  constructor(options: IoTraceDecoderOptions) {
    this.#vm = options.vm;
    this.#maxQueues = options.maxQueues ?? 1024;
  }

  /** The event for a record, or undefined for events it does not handle or malformed arguments. */
  decode(record: QemuTraceRecord): GuestEvent | undefined {
    switch (record.name) {
      case 'memory_region_ops_read':
      case 'memory_region_ops_write':
        return this.#memoryRegionOps(record);
      case 'virtio_queue_notify':
        return this.#notify(record);
      case 'virtqueue_pop':
        return this.#pop(record);
      case 'virtio_blk_handle_read':
      case 'virtio_blk_handle_write':
        return this.#blockRequest(record);
      default:
        return undefined;
    }
  }

  #memoryRegionOps(record: QemuTraceRecord): PortIoEvent | MmioEvent | undefined {
    const match = MEMORY_REGION_OPS.exec(record.args);
    if (match === null) return undefined;
    const [, cpu, addressHex, valueHex, sizeText, region] = match;
    const direction = record.name === 'memory_region_ops_read' ? 'read' : 'write';
    const address = BigInt(`0x${addressHex as string}`);
    const value = BigInt(`0x${valueHex as string}`);
    const size = Number(sizeText);
    const vcpu = Number(cpu) >= 0 ? Number(cpu) : null;
    if (address < PORT_SPACE_END && (size === 1 || size === 2 || size === 4)) {
      return {
        type: 'port-io',
        vm: this.#vm,
        vcpu,
        time: record.time,
        port: Number(address),
        direction,
        size,
        value: Number(value & 0xffff_ffffn),
      };
    }
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return undefined;
    return {
      type: 'mmio',
      vm: this.#vm,
      vcpu,
      time: record.time,
      address,
      direction,
      size,
      value,
      region: region as string,
    };
  }

  #notify(record: QemuTraceRecord): VirtioEvent | undefined {
    const match = QUEUE_NOTIFY.exec(record.args);
    if (match === null) return undefined;
    const [, vdev, queueText, vq] = match;
    const queue = Number(queueText);
    const device = this.#deviceName(vdev as string);
    if (this.#queues.size < this.#maxQueues || this.#queues.has(vq as string)) {
      this.#queues.set(vq as string, { device: vdev as string, queue });
    }
    return this.#virtio(record, device, queue, 'notify');
  }

  #pop(record: QemuTraceRecord): VirtioEvent | undefined {
    const match = QUEUE_POP.exec(record.args);
    if (match === null) return undefined;
    const known = this.#queues.get(match[1] as string);
    const device = known === undefined ? 'virtio' : this.#deviceName(known.device);
    return this.#virtio(record, device, known?.queue ?? -1, 'other');
  }

  #blockRequest(record: QemuTraceRecord): VirtioEvent | undefined {
    const match = BLK_REQUEST.exec(record.args);
    if (match === null) return undefined;
    const [, vdev, sector, sectors] = match;
    if (this.#blockDevices.size < this.#maxQueues) this.#blockDevices.add(vdev as string);
    const event = this.#virtio(
      record,
      'virtio-blk',
      0,
      record.name === 'virtio_blk_handle_read' ? 'read' : 'write',
    );
    return { ...event, sector: BigInt(sector as string), length: Number(sectors) * SECTOR_BYTES };
  }

  #deviceName(vdev: string): string {
    return this.#blockDevices.has(vdev) ? 'virtio-blk' : `virtio@${vdev}`;
  }

  #virtio(
    record: QemuTraceRecord,
    device: string,
    queue: number,
    operation: VirtioEvent['operation'],
  ): VirtioEvent {
    return {
      type: 'virtio',
      vm: this.#vm,
      vcpu: null,
      time: record.time,
      device,
      queue,
      operation,
    };
  }
}
