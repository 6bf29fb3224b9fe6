import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { idtGateHandler, kernelImagePhysical, slideFromIdtGate } from './kaslr.js';

/** HMP `x /2gx 0xfffffe0000000000` on a KASLR boot (lab-notes §6): 0x9b208e0000100990 0x00000000ffffffff. */
function gate(): Uint8Array {
  const bytes = Buffer.alloc(16);
  bytes.writeBigUInt64LE(0x9b208e0000100990n, 0);
  bytes.writeBigUInt64LE(0x00000000ffffffffn, 8);
  return bytes;
}

void describe('KASLR from outside', () => {
  void it('decodes the IDT gate 0 handler and the slide against asm_exc_divide_error', () => {
    assert.equal(idtGateHandler(gate()), 0xffffffff9b200990n);
    assert.equal(slideFromIdtGate(gate(), 0xffffffff81c00990n), 0x19600000n);
  });

  void it('rejects an implausible slide', () => {
    assert.equal(slideFromIdtGate(gate(), 0xffffffff81c00991n), undefined);
    assert.equal(slideFromIdtGate(gate(), 0xffffffffa0000000n), undefined);
  });

  void it('maps kernel-image addresses with phys_base', () => {
    assert.equal(kernelImagePhysical(0xffffffff82a10000n, 0n), 0x2a10000n);
    assert.equal(kernelImagePhysical(0xffffffff9c010000n, -0x15400000n), 0x6c10000n);
  });
});
