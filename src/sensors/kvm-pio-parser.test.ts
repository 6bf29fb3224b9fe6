import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kvmPioToEvent, parseKvmPioLine } from './kvm-pio-parser.js';

test('a kvm_pio trace_pipe line parses into a port write with the vCPU thread and clock', () => {
  const line =
    ' qemu-system-x86-4242    [001] d..1.  1234.000567: kvm_pio: pio_write at 0x3f5 size 1 count 1 val 0x42 ';
  const record = parseKvmPioLine(line);
  assert.deepEqual(record, {
    event: 'pio',
    tid: 4242,
    clockNs: 1_234_000_567_000n,
    direction: 'write',
    port: 0x3f5,
    size: 1,
    count: 1,
    value: 0x42,
  });
  const event = kvmPioToEvent(record, 'vm', 10n);
  assert.equal(event?.time, 1_234_000_567_010n);
  assert.equal(
    parseKvmPioLine(
      ' CPU 0/KVM-77 [000] ..... 5.5: kvm_pio: pio_read at 0x3f4 size 1 count 1 val 0x80 ',
    )?.direction,
    'read',
  );
  assert.equal(parseKvmPioLine('# tracer: nop'), undefined);
  assert.equal(
    parseKvmPioLine(' x-1 [000] ..... 5.5: tracing_mark_write: vmsight-close'),
    undefined,
  );
});
