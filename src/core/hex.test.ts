import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hex, parseUnsigned } from './hex.js';

test('formats and parses guest addresses without losing bits', () => {
  assert.equal(hex(0xffffffff82a1aa40n), '0xffffffff82a1aa40');
  assert.equal(hex(255), '0xff');
  assert.equal(parseUnsigned('0xffff_8880_0000_1000'), 0xffff888000001000n);
  assert.equal(parseUnsigned(' 4096 '), 4096n);
  assert.equal(parseUnsigned('0x'), undefined);
  assert.equal(parseUnsigned('-1'), undefined);
  assert.equal(parseUnsigned('12abc'), undefined);
});
