import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GuestEventType, assertNever, describeGuestEvent, type GuestEvent } from './guest-event.js';
import { SAMPLE_EVENTS } from './internal-test/test-support.js';

test('describeGuestEvent covers every event type', () => {
  const seen = new Set(SAMPLE_EVENTS.map((event) => event.type));
  assert.deepEqual([...seen].sort(), Object.values(GuestEventType).sort());
  for (const event of SAMPLE_EVENTS) {
    assert.match(describeGuestEvent(event), new RegExp(`^${event.type} `));
  }
  assert.equal(describeGuestEvent(SAMPLE_EVENTS[0] as GuestEvent), 'syscall openat (x86-64 257)');
});

test('assertNever throws on a value the type system ruled out', () => {
  assert.throws(() => assertNever('bogus' as never), TypeError);
});
