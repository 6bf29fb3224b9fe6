import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IoTraceDecoder } from './io-trace-decoder.js';
import type { QemuTraceRecord } from './tcg-log-record.js';

const TIME = 1795312723202712000n;
const record = (name: string, args: string): QemuTraceRecord => ({
  kind: 'trace',
  pid: 14540,
  time: TIME,
  name,
  args,
});

// Lines from lab-notes §5 (QEMU 7.2.22, `-msg timestamp=on`).
describe('IoTraceDecoder', () => {
  it('reads memory_region_ops on the serial port as port I/O', () => {
    const decoder = new IoTraceDecoder({ vm: 'lab' });
    const event = decoder.decode(
      record(
        'memory_region_ops_read',
        "cpu 0 mr 0x55cce5b30a40 addr 0x3fa value 0xc2 size 1 name 'serial'",
      ),
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
    const decoder = new IoTraceDecoder({ vm: 'lab' });
    const event = decoder.decode(
      record(
        'memory_region_ops_write',
        "cpu 0 mr 0x557350169210 addr 0xfebff000 value 0x0 size 2 name 'virtio-pci-notify-virtio-blk'",
      ),
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
    const decoder = new IoTraceDecoder({ vm: 'lab' });
    const read = decoder.decode(
      record(
        'virtio_blk_handle_read',
        'vdev 0x557350170740 req 0x7f705435ba00 sector 8 nsectors 8',
      ),
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
    const notify = decoder.decode(
      record('virtio_queue_notify', 'vdev 0x557350170740 n 0 vq 0x7f709c44f010'),
    );
    assert.equal(notify?.type === 'virtio' && notify.device, 'virtio-blk');
    const pop = decoder.decode(
      record('virtqueue_pop', 'vq 0x7f709c44f010 elem 0x7f705435ba00 in_num 2 out_num 1'),
    );
    assert.deepEqual(pop, {
      type: 'virtio',
      vm: 'lab',
      vcpu: null,
      time: TIME,
      device: 'virtio-blk',
      queue: 0,
      operation: 'other',
    });
    const netPop = decoder.decode(
      record('virtqueue_pop', 'vq 0x7f709c4760a8 elem 0x55734f52bbf0 in_num 0 out_num 1'),
    );
    assert.equal(netPop?.type === 'virtio' && netPop.queue, -1);
  });

  it('ignores other events and malformed arguments', () => {
    const decoder = new IoTraceDecoder({ vm: 'lab' });
    assert.equal(decoder.decode(record('serial_write', 'write addr 0x01 val 0x07')), undefined);
    assert.equal(decoder.decode(record('memory_region_ops_read', 'cpu 0 mr x')), undefined);
    assert.equal(
      decoder.decode(
        record('memory_region_ops_read', "cpu 0 mr 0x1 addr 0xfee00000 value 0x0 size 3 name 'x'"),
      ),
      undefined,
    );
    assert.equal(decoder.decode(record('virtqueue_pop', 'vq 0x1')), undefined);
  });

  it('remembers at most maxQueues virtqueues', () => {
    const decoder = new IoTraceDecoder({ vm: 'lab', maxQueues: 1 });
    decoder.decode(record('virtio_queue_notify', 'vdev 0x1 n 3 vq 0xa'));
    decoder.decode(record('virtio_queue_notify', 'vdev 0x1 n 4 vq 0xb'));
    const first = decoder.decode(record('virtqueue_pop', 'vq 0xa elem 0x2 in_num 0 out_num 1'));
    const second = decoder.decode(record('virtqueue_pop', 'vq 0xb elem 0x2 in_num 0 out_num 1'));
    assert.equal(first?.type === 'virtio' && first.queue, 3);
    assert.equal(second?.type === 'virtio' && second.queue, -1);
  });
});
