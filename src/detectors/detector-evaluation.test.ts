import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalTraces, withForeignBlock } from './_synthetic-traces.js';
import { evaluateDetector, evaluateScores } from './detector-evaluation.js';

test('evaluateScores reports AUC, detection at each false-alarm rate and the ROC curve', () => {
  const normal = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
  const attack = [0.95, 0.85, 0.05];
  const result = evaluateScores(normal, attack, [0.1, 0.2]);
  // 0.95 beats 9 normals, 0.85 beats 8, 0.05 beats none: 17 of 30 pairs.
  assert.equal(result.auc, 17 / 30);
  assert.deepEqual(result.detection, [
    { falseAlarmRate: 0.1, detectionRate: 1 / 3, threshold: 0.9, observedFalseAlarmRate: 0.1 },
    { falseAlarmRate: 0.2, detectionRate: 2 / 3, threshold: 0.8, observedFalseAlarmRate: 0.2 },
  ]);
  assert.deepEqual(result.roc.at(-1), {
    falseAlarmRate: 1,
    detectionRate: 1,
    threshold: -Infinity,
  });
});

test('evaluateDetector trains on training traces only and reports its parameter choices', () => {
  const train = normalTraces(20, 11);
  const normal = normalTraces(15, 12);
  const attack = normalTraces(5, 13).map(withForeignBlock);
  let tick = 0;
  const result = evaluateDetector(
    'markov',
    { train, normal, attack },
    { clock: () => (tick += 10) },
  );
  assert.equal(result.auc, 1);
  assert.equal(result.kind, 'markov');
  assert.equal(result.trainMilliseconds, 10);
  assert.equal(result.scoreMilliseconds, 10);
  assert.equal(result.normalScores.length, 15);
  assert.equal(
    result.callsScored,
    [...normal, ...attack].reduce((sum, trace) => sum + trace.length, 0),
  );
  assert.match(result.parameters[0]?.chosenBy ?? '', /CV on training traces/);
});
