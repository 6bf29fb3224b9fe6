import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_STUB_FEATURES, parseStubFeatures } from './gdb-stub-features.js';

describe('parseStubFeatures', () => {
  it("reads QEMU 7.2's qSupported reply", () => {
    const reply =
      'PacketSize=1000;qXfer:features:read+;ReverseStep+;ReverseContinue+;multiprocess+;vContSupported+';
    assert.deepEqual(parseStubFeatures(reply), {
      packetSize: 0x1000,
      multiprocess: true,
      xmlRegisters: true,
      raw: reply,
    });
  });

  it('falls back on a missing or absurd packet size, and caps a huge one', () => {
    assert.equal(parseStubFeatures('multiprocess-').packetSize, DEFAULT_STUB_FEATURES.packetSize);
    assert.equal(parseStubFeatures('multiprocess-').multiprocess, false);
    assert.equal(parseStubFeatures('PacketSize=zz').packetSize, DEFAULT_STUB_FEATURES.packetSize);
    assert.equal(parseStubFeatures('PacketSize=10').packetSize, DEFAULT_STUB_FEATURES.packetSize);
    assert.equal(parseStubFeatures('PacketSize=ffffffff').packetSize, 1 << 20);
  });
});
