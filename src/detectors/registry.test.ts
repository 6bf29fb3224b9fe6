import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { DetectorKind } from './detector.js';
import { deserialize, isDetectorKind, train } from './registry.js';

test('train dispatches on the kind and passes its options through', () => {
  const traces = [Uint32Array.of(1, 2, 3, 4)];
  assert.equal(train('stide', traces, { n: 3 }).kind, DetectorKind.stide);
  assert.equal(train('tstide', traces, { n: 3 }).parameters[0]?.value, 3);
  assert.equal(train('markov', traces, { order: 2 }).parameters[0]?.value, 2);
});

test('deserialize refuses what is not a model', () => {
  for (const bad of [null, 3, [], {}, { kind: 7 }, { kind: 'constructor' }]) {
    assert.throws(
      () => deserialize(bad),
      (error) => isVmsightError(error, 'MODEL_INVALID'),
    );
  }
});

test('isDetectorKind accepts exactly the registered kinds', () => {
  assert.equal(isDetectorKind('markov'), true);
  assert.equal(isDetectorKind('toString'), false);
});
