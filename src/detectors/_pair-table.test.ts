import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PairTable } from './_pair-table.js';

test('PairTable hands out dense indices in insertion order and finds them again', () => {
  const table = new PairTable(2);
  assert.equal(table.add(7, 1), 0);
  assert.equal(table.add(7, 2), 1);
  assert.equal(table.add(7, 1), 0);
  assert.equal(table.find(7, 2), 1);
  assert.equal(table.find(2, 7), -1);
  assert.equal(table.size, 2);
  assert.deepEqual([table.keyA(1), table.keyB(1)], [7, 2]);
});

test('PairTable survives many rehashes, including keys at the 32-bit extremes', () => {
  const table = new PairTable();
  const keys: Array<[number, number]> = [];
  for (let i = 0; i < 5000; i++) keys.push([(i * 2654435761) >>> 0, 0xffffffff - i]);
  keys.forEach(([a, b], i) => assert.equal(table.add(a, b), i));
  keys.forEach(([a, b], i) => assert.equal(table.find(a, b), i));
  assert.equal(table.find(1, 1), -1);
});
