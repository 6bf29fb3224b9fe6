import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MarkovModel } from './markov.js';

test('Markov matches interpolated modified Kneser-Ney worked by hand', () => {
  // One trace 1 2 1 2, order 1. Padded bigrams (S 1) (1 2) ×2 (2 1). Order-1 count-of-counts n1 = 2,
  // n2 = 1, so Y = 1/2, D1 = 1/2, D2 = 2 → clamped to 1.95. Unigram continuation counts: 1 ← {S, 2}
  // = 2, 2 ← {1} = 1, so D1 = 1/3, D2 = 1.95 and gamma(root) = (1.95 + 1/3) / 3.
  // Predictable calls: 1, 2 and "unknown", so the uniform base is 1/3.
  const model = MarkovModel.train([Uint32Array.of(1, 2, 1, 2)], { order: 1 });
  const gammaRoot = (1.95 + 1 / 3) / 3;
  const p1 = (2 - 1.95) / 3 + gammaRoot / 3;
  const p2 = (1 - 1 / 3) / 3 + gammaRoot / 3;
  const p1AfterStart = (1 - 0.5) / 1 + 0.5 * p1;
  const p2After1 = (2 - 1.95) / 2 + (1.95 / 2) * p2;
  const p1After1 = (1.95 / 2) * p1;
  const stream = model.openStream();
  assertClose(stream.push(1).score, -Math.log(p1AfterStart));
  assertClose(stream.push(2).score, -Math.log(p2After1));
  const again = model.openStream();
  again.push(1);
  assertClose(again.push(1).score, -Math.log(p1After1));
  assertClose(model.scoreTrace(Uint32Array.of(7)).score, -Math.log(0.5 * (gammaRoot / 3)));
});

test('Markov probabilities over the vocabulary and the unknown call sum to one', () => {
  const traces = [
    Uint32Array.of(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5),
    Uint32Array.of(2, 7, 1, 8, 2, 8),
  ];
  const model = MarkovModel.train(traces, { order: 3 });
  const vocabulary = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1000];
  for (const history of [[], [3, 1], [5, 9, 2], [8, 8, 8], [42]]) {
    let total = 0;
    for (const next of vocabulary) {
      const stream = model.openStream();
      for (const call of history) stream.push(call);
      total += Math.exp(-stream.push(next).score);
    }
    assertClose(total, 1, 1e-12);
  }
});

test('Markov gives seen continuations lower surprisal than foreign ones', () => {
  const model = MarkovModel.train([Uint32Array.of(1, 2, 3, 1, 2, 3, 1, 2, 3)], { order: 2 });
  assert.ok(
    model.scoreTrace(Uint32Array.of(1, 2, 3)).score <
      model.scoreTrace(Uint32Array.of(3, 2, 1)).score,
  );
  const flagging = MarkovModel.train([Uint32Array.of(1, 2, 3, 1, 2, 3)], {
    order: 2,
    rareProbability: 0.2,
  });
  const stream = flagging.openStream();
  assert.equal(stream.push(1).anomalous, false);
  assert.equal(stream.push(9).anomalous, true);
  assert.equal(stream.summary().anomalousWindows, 1);
});

test('Markov records the origin of each parameter', () => {
  const model = MarkovModel.train([Uint32Array.of(1, 2)], { order: 2, orderChosenBy: 'a test' });
  assert.deepEqual(
    model.parameters.map((p) => [p.name, p.chosenBy.split(':')[0]]),
    [
      ['order', 'a test'],
      [
        'discounts',
        'estimated from training counts, Chen & Goodman 1998 closed form (D1 D2 D3+ per order)',
      ],
      ['rareProbability', 'fixed in advance'],
    ],
  );
  assert.throws(() => MarkovModel.train([Uint32Array.of(1)], { rareProbability: 1 }), RangeError);
  assert.throws(() => MarkovModel.train([Uint32Array.of(1)], { order: 16 }), RangeError);
});

function assertClose(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${actual} is not within ${tolerance} of ${expected}`,
  );
}
