import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFolds, crossValidatedScores, splitFold } from './cross-validation.js';
import { StideModel } from './stide.js';

test('folds are index mod k and every trace is held out exactly once', () => {
  assert.deepEqual(splitFold(7, 3, 1), { training: [0, 2, 3, 5, 6], heldOut: [1, 4] });
  const seen = new Set<number>();
  for (let fold = 0; fold < 3; fold++) for (const i of splitFold(7, 3, fold).heldOut) seen.add(i);
  assert.equal(seen.size, 7);
});

test('held-out scores come from models that did not see the trace', () => {
  const traces = [Uint32Array.of(1, 2, 3), Uint32Array.of(1, 2, 3), Uint32Array.of(1, 2, 4)];
  const scores = crossValidatedScores(traces, (t) => StideModel.train(t, { n: 2 }), { folds: 3 });
  // Trace 2 is scored by a model of traces 0 and 1, where (2, 4) never occurs: 1 of 3 windows.
  // Traces 0 and 1 each have a twin in the other folds.
  assert.deepEqual(Array.from(scores), [0, 0, 1 / 3]);
});

test('fold counts outside 2..traces are refused', () => {
  assert.throws(() => checkFolds(1, 5), RangeError);
  assert.throws(() => checkFolds(6, 5), RangeError);
  assert.equal(checkFolds(5, 5), 5);
});
