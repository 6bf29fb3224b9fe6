import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectionRateAt, rocAuc, rocCurve, thresholdForFalseAlarmRate } from './roc.js';

test('rocAuc is the Mann-Whitney probability with ties counting one half', () => {
  assert.equal(rocAuc([1, 2, 3], [4, 5]), 1);
  assert.equal(rocAuc([4, 5], [1, 2, 3]), 0);
  assert.equal(rocAuc([1, 1, 1], [1, 1]), 0.5);
  // Pairs (normal, attack): (0.1, 0.4) win, (0.4, 0.4) tie, (0.1, 0.9) win, (0.4, 0.9) win.
  assert.equal(rocAuc([0.1, 0.4], [0.4, 0.9]), 0.875);
  // 3 normals × 3 attacks: attack 2 beats 1 and ties 2 (1.5), attack 3 beats 1, 2 and ties 3
  // (2.5), attack 0 beats none (0): 4 / 9.
  assert.equal(rocAuc([1, 2, 3], [2, 3, 0]), 4 / 9);
});

test('rocAuc agrees with counting every pair on random scores with many ties', () => {
  let seed = 3;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * 20);
  };
  const normal = Array.from({ length: 57 }, next);
  const attack = Array.from({ length: 31 }, next);
  let wins = 0;
  for (const a of attack) for (const n of normal) wins += a > n ? 1 : a === n ? 0.5 : 0;
  assert.ok(Math.abs(rocAuc(normal, attack) - wins / (normal.length * attack.length)) < 1e-12);
});

test('detection rate at a false-alarm rate never exceeds that rate on the normal scores', () => {
  const normal = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(thresholdForFalseAlarmRate(normal, 0.1), 9);
  assert.equal(thresholdForFalseAlarmRate(normal, 0), 10);
  assert.equal(thresholdForFalseAlarmRate(normal, 1), 1);
  assert.deepEqual(detectionRateAt({ normal, attack: [9.5, 8, 11, 12] }, 0.1), {
    detectionRate: 0.75,
    threshold: 9,
    falseAlarmRate: 0.1,
  });
  // Ties at the threshold stay below it: all normals equal means no false alarm is possible.
  assert.deepEqual(detectionRateAt({ normal: [2, 2, 2, 2], attack: [2, 3] }, 0.5), {
    detectionRate: 0.5,
    threshold: 2,
    falseAlarmRate: 0,
  });
});

test('rocCurve walks from no alarms to all alarms through each distinct score', () => {
  const points = rocCurve([1, 2, 2], [2, 3]);
  assert.deepEqual(
    points.map((p) => [p.falseAlarmRate, p.detectionRate]),
    [
      [0, 0],
      [0, 0.5],
      [2 / 3, 1],
      [1, 1],
    ],
  );
  assert.deepEqual(
    points.map((p) => p.threshold),
    [Infinity, 2, 1, -Infinity],
  );
});

test('ROC metrics refuse empty or NaN scores', () => {
  assert.throws(() => rocAuc([], [1]), RangeError);
  assert.throws(() => rocAuc([1], [Number.NaN]), RangeError);
  assert.throws(() => thresholdForFalseAlarmRate([1], 1.5), RangeError);
});
