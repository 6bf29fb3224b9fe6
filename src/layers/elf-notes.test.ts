import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VmsightError, isVmsightError } from '../core/index.js';
import { encodeNotes } from './_elf-core-builder.js';
import { parseElfNotes } from './elf-notes.js';

void describe('parseElfNotes', () => {
  void it('round-trips notes and tolerates trailing padding', () => {
    const notes = [
      { name: 'CORE', type: 1, desc: Uint8Array.of(1, 2, 3) },
      { name: 'VMCOREINFO', type: 0, desc: new TextEncoder().encode('A=1\n') },
    ];
    const parsed = parseElfNotes(Uint8Array.from([...encodeNotes(notes), 0, 0, 0, 0]));
    assert.deepEqual(
      parsed.map((n) => [n.name, n.type, [...n.desc]]),
      notes.map((n) => [n.name, n.type, [...n.desc]]),
    );
  });

  void it('never throws anything but a VmsightError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseElfNotes(bytes);
        } catch (error) {
          assert.ok(error instanceof VmsightError, String(error));
        }
      }),
      { numRuns: 500 },
    );
  });

  void it('rejects a note whose size runs past the segment', () => {
    const bytes = encodeNotes([{ name: 'CORE', type: 1, desc: new Uint8Array(8) }]);
    assert.throws(
      () => parseElfNotes(bytes.subarray(0, bytes.length - 4)),
      (e: unknown) => isVmsightError(e, 'TRUNCATED_INPUT'),
    );
  });
});
