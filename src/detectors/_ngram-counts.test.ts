import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { START_TOKEN, countNgrams } from './_ngram-counts.js';

const S = START_TOKEN;

function asRows(n: number, grams: Uint32Array, counts: Uint32Array): Array<[number[], number]> {
  return Array.from(counts, (count, i) => [Array.from(grams.subarray(i * n, i * n + n)), count]);
}

test('countNgrams pads each trace so every call ends one n-gram, sorted canonically', () => {
  const table = countNgrams([Uint32Array.of(1, 2, 1, 2), Uint32Array.of(2)], 3);
  // Hand-worked: (S S 1) (S 1 2) (1 2 1) (2 1 2) from the first trace, (S S 2) from the second.
  assert.deepEqual(asRows(3, table.grams, table.counts), [
    [[1, 2, 1], 1],
    [[2, 1, 2], 1],
    [[S, 1, 2], 1],
    [[S, S, 1], 1],
    [[S, S, 2], 1],
  ]);
});

test('countNgrams adds up repeated n-grams across traces', () => {
  const table = countNgrams([Uint32Array.of(5, 5, 5), Uint32Array.of(5)], 2);
  assert.deepEqual(asRows(2, table.grams, table.counts), [
    [[5, 5], 2],
    [[S, 5], 2],
  ]);
});

test('countNgrams refuses the padding value as a token and training without tokens', () => {
  assert.throws(
    () => countNgrams([Uint32Array.of(1, START_TOKEN)], 2),
    (error) => isVmsightError(error, 'INVALID_INPUT') && /position 1/.test(error.message),
  );
  assert.throws(
    () => countNgrams([new Uint32Array(0)], 2),
    (error) => isVmsightError(error, 'INVALID_INPUT'),
  );
  assert.throws(() => countNgrams([Uint32Array.of(1)], 0), RangeError);
  assert.throws(() => countNgrams([Uint32Array.of(1)], 17), RangeError);
});
