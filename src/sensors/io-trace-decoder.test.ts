import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GuestEvent } from '../events/index.js';
import { IoTraceDecoder, type IoTraceDecoderOptions } from './io-trace-decoder.js';

const TIME = 1795312723202712000n;

/**
 * A fresh decoder for the lab VM, fed through the returned function one trace line at a time
 * (pid and time as in the captured lines).
 */
function labDecoder(
  options: Omit<IoTraceDecoderOptions, 'vm'> = {},
): (name: string, args: string) => GuestEvent | undefined {
  const decoder = new IoTraceDecoder({ vm: 'lab', ...options });
  return (name, args) => decoder.decode({ kind: 'trace', pid: 14540, time: TIME, name, args });
}

// Lines from lab-notes §5 (QEMU 7.2.22, `-msg timestamp=on`).
describe('IoTraceDecoder', () => {
  it('reads memory_region_ops on the serial port as port I/O', () => {
    const event = labDecoder()(
      'memory_region_ops_read',
      "cpu 0 mr 0x55cce5b30a40 addr 0x3fa value 0xc2 size 1 name 'serial'",
    );
    assert.deepEqual(event, {
      type: 'port-io',
      vm: 'lab',
      vcpu: 0,
      time: TIME,
      port: 0x3fa,
      direction: 'read',
      size: 1,
      value: 0xc2,
    });
  });

  it('reads memory_region_ops above 64 KiB as MMIO with the region name', () => {
    const event = labDecoder()(
      'memory_region_ops_write',
      "cpu 0 mr 0x557350169210 addr 0xfebff000 value 0x0 size 2 name 'virtio-pci-notify-virtio-blk'",
    );
    assert.deepEqual(event, {
      type: 'mmio',
      vm: 'lab',
      vcpu: 0,
      time: TIME,
      address: 0xfebff000n,
      direction: 'write',
      size: 2,
      value: 0n,
      region: 'virtio-pci-notify-virtio-blk',
    });
  });

  it('names the queue of a virtqueue_pop after the notify that kicked it, and the device after its requests', () => {
    const decode = labDecoder();
    const read = decode(
      'virtio_blk_handle_read',
      'vdev 0x557350170740 req 0x7f705435ba00 sector 8 nsectors 8',
    );
    assert.deepEqual(read, {
      type: 'virtio',
      vm: 'lab',
      vcpu: null,
      time: TIME,
      device: 'virtio-blk',
      queue: 0,
      operation: 'read',
      sector: 8n,
      length: 4096,
    });
    const notify = decode('virtio_queue_notify', 'vdev 0x557350170740 n 0 vq 0x7f709c44f010');
    assert.equal(notify?.type === 'virtio' && notify.device, 'virtio-blk');
    const pop = decode('virtqueue_pop', 'vq 0x7f709c44f010 elem 0x7f705435ba00 in_num 2 out_num 1');
    assert.deepEqual(pop, {
      type: 'virtio',
      vm: 'lab',
      vcpu: null,
      time: TIME,
      device: 'virtio-blk',
      queue: 0,
      operation: 'other',
    });
    const netPop = decode(
      'virtqueue_pop',
      'vq 0x7f709c4760a8 elem 0x55734f52bbf0 in_num 0 out_num 1',
    );
    assert.equal(netPop?.type === 'virtio' && netPop.queue, -1);
  });

  it('ignores other events and malformed arguments', () => {
    const decode = labDecoder();
    assert.equal(decode('serial_write', 'write addr 0x01 val 0x07'), undefined);
    assert.equal(decode('memory_region_ops_read', 'cpu 0 mr x'), undefined);
    assert.equal(
      decode('memory_region_ops_read', "cpu 0 mr 0x1 addr 0xfee00000 value 0x0 size 3 name 'x'"),
      undefined,
    );
    assert.equal(decode('virtqueue_pop', 'vq 0x1'), undefined);
  });

  it('remembers at most maxQueues virtqueues', () => {
    const decode = labDecoder({ maxQueues: 1 });
    decode('virtio_queue_notify', 'vdev 0x1 n 3 vq 0xa');
    decode('virtio_queue_notify', 'vdev 0x1 n 4 vq 0xb');
    const first = decode('virtqueue_pop', 'vq 0xa elem 0x2 in_num 0 out_num 1');
    const second = decode('virtqueue_pop', 'vq 0xb elem 0x2 in_num 0 out_num 1');
    assert.equal(first?.type === 'virtio' && first.queue, 3);
    assert.equal(second?.type === 'virtio' && second.queue, -1);
  });
});
