import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectMarkovOrder, trainMarkov } from './markov-order.js';

// After 1 comes 2 or 3; which one is fixed by the call before the 1. Order 2 predicts it, order 1
// cannot, and nothing further back helps.
const traces = Array.from({ length: 10 }, (_, i) =>
  Uint32Array.from({ length: 40 + i }, (_, k) => [2, 1, 3, 1][k % 4] ?? 0),
);

test('cross-validation picks the order that predicts held-out traces best', () => {
  const choice = selectMarkovOrder(traces, { orders: [1, 2], folds: 5 });
  assert.equal(choice.order, 2);
  const [first, second] = choice.crossEntropy;
  assert.ok((second?.nats ?? Infinity) < (first?.nats ?? 0));
  assert.match(choice.chosenBy, /^5-fold CV on training traces/);
});

test('trainMarkov records the cross-validated order in the model parameters', () => {
  const model = trainMarkov(traces, { orderSearch: { orders: [1, 2] } });
  assert.equal(model.order, 2);
  assert.match(model.parameters[0]?.chosenBy ?? '', /lowest held-out cross-entropy/);
});

test('trainMarkov falls back to the fixed order when there are too few traces', () => {
  const model = trainMarkov(traces.slice(0, 3));
  assert.equal(model.order, 6);
  assert.match(model.parameters[0]?.chosenBy ?? '', /fewer traces than CV folds/);
  assert.equal(trainMarkov(traces, { order: 3 }).order, 3);
  assert.throws(() => selectMarkovOrder(traces, { orders: [] }), RangeError);
});
