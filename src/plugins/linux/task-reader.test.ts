import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stateLetter } from './task-reader.js';

void describe('stateLetter', () => {
  void it('maps __state and exit_state like fs/proc/array.c', () => {
    assert.equal(stateLetter(0, 0), 'R');
    assert.equal(stateLetter(1, 0), 'S');
    assert.equal(stateLetter(2, 0), 'D');
    assert.equal(stateLetter(0x402, 0), 'I');
    assert.equal(stateLetter(4, 0), 'T');
    assert.equal(stateLetter(8, 0), 't');
    assert.equal(stateLetter(0, 32), 'Z');
    assert.equal(stateLetter(0, 16), 'X');
    assert.equal(stateLetter(0x2000, 0), 'R'); // bits outside TASK_REPORT
  });
});
