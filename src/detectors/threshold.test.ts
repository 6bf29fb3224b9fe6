import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalTraces, withForeignBlock } from './_synthetic-traces.js';
import { train } from './registry.js';
import { calibrateThreshold, trainCalibrated } from './threshold.js';

const training = normalTraces(60, 9);

test('the calibrated threshold keeps held-out false alarms at or below the target', () => {
  const calibration = calibrateThreshold(training, (t) => train('markov', t, { order: 3 }), {
    targetFalseAlarmRate: 0.05,
  });
  const alarms = calibration.heldOutScores.filter((score) => score > calibration.threshold).length;
  assert.ok(alarms / training.length <= 0.05);
  assert.equal(calibration.choice.name, 'threshold');
  assert.match(calibration.choice.chosenBy, /^5-fold CV on training traces/);
});

test('trainCalibrated stores a threshold that separates a foreign trace', () => {
  for (const kind of ['stide', 'markov', 'ensemble'] as const) {
    const model = trainCalibrated(kind, training, { targetFalseAlarmRate: 0.02 });
    assert.ok(model.threshold !== undefined, kind);
    const infected = model.scoreTrace(withForeignBlock(training[0] ?? new Uint32Array()));
    assert.ok(infected.score > (model.threshold ?? Infinity), kind);
    assert.ok(model.parameters.some((p) => p.name === 'threshold'));
  }
});
