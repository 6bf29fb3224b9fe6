import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kvmMmioToEvent } from './kvm-pio-parser.js';
import { parseKvmTraceLine } from './kvm-trace-parser.js';

// Lines as this host's kernel printed them (kvm_mmio, kvm_pio) and as the kvm_exit format prints.
test('kvm_mmio lines: reads, writes and the unsatisfied read before a user-space completion', () => {
  const write = parseKvmTraceLine(
    ' qemu-system-x86-25683   [001] ..... 10618.661480: kvm_mmio: mmio write len 4 gpa 0xfe800000 val 0x12345678',
  );
  assert.deepEqual(write, {
    event: 'mmio',
    tid: 25683,
    clockNs: 10_618_661_480_000n,
    type: 'write',
    size: 4,
    address: 0xfe800000n,
    value: 0x12345678n,
  });
  assert.equal(kvmMmioToEvent(write, 'vm', 5n, 0)?.time, 10_618_661_480_005n);
  const pending = parseKvmTraceLine(
    ' qemu-system-x86-1 [001] ..... 1.5: kvm_mmio: mmio unsatisfied-read len 4 gpa 0xfed00000 val 0x0',
  );
  assert.ok(typeof pending === 'object' && pending.event === 'mmio');
  assert.equal(kvmMmioToEvent(pending, 'vm', 0n), undefined);
  const read = parseKvmTraceLine(
    ' CPU 0/KVM-1 [001] ..... 1.6: kvm_mmio: mmio read len 8 gpa 0xfed00000 val 0x989680008086a201',
  );
  assert.ok(typeof read === 'object' && read.event === 'mmio');
  assert.equal(kvmMmioToEvent(read, 'vm', 0n)?.value, 0x989680008086a201n);
  const odd = parseKvmTraceLine(
    ' q-1 [001] ..... 1.6: kvm_mmio: mmio read len 16 gpa 0x1000 val 0x0',
  );
  assert.ok(typeof odd === 'object' && odd.event === 'mmio');
  assert.equal(kvmMmioToEvent(odd, 'vm', 0n), undefined, 'no 16-byte MMIO event');
});

test('kvm_exit lines give the vCPU and reason; foreign and broken lines are told apart', () => {
  const exit = parseKvmTraceLine(
    ' CPU 1/KVM-4242 [000] d..1. 77.000001: kvm_exit: vcpu 1 reason IO_INSTRUCTION rip 0x7c12 info1 0x0000000003f50000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000 requests 0x0000000000000000',
  );
  assert.ok(typeof exit === 'object' && exit.event === 'exit');
  assert.equal(exit.vcpu, 1);
  assert.equal(exit.reason, 'IO_INSTRUCTION');
  assert.equal(exit.rip, 0x7c12n);
  assert.equal(
    parseKvmTraceLine(' x-1 [000] ..... 5.5: tracing_mark_write: vmsight-release'),
    undefined,
  );
  assert.equal(parseKvmTraceLine('CPU:1 [LOST 42 EVENTS]'), undefined);
  assert.equal(
    parseKvmTraceLine(
      ' x-1 [000] ..... 5.5: kvm_pio: pio_write at 0x123456789 size 1 count 1 val 0x1',
    ),
    'malformed',
  );
  assert.equal(parseKvmTraceLine(' x-1 [000] ..... 5.5: kvm_mmio: garbage'), 'malformed');
});
