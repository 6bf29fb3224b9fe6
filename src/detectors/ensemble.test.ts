import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalTraces, withForeignBlock } from './_synthetic-traces.js';
import { crossValidatedScores } from './cross-validation.js';
import { EnsembleModel } from './ensemble.js';
import { MarkovModel } from './markov.js';
import { StideModel } from './stide.js';

const training = normalTraces(30, 5);

test('each member is standardised by its cross-validated training scores', () => {
  const ensemble = EnsembleModel.train(training, {
    members: [
      { kind: 'stide', options: { n: 3 } },
      { kind: 'markov', options: { order: 2 } },
    ],
  });
  const stideHeldOut = crossValidatedScores(training, (t) => StideModel.train(t, { n: 3 }));
  const markovHeldOut = crossValidatedScores(training, (t) => MarkovModel.train(t, { order: 2 }));
  const [stide, markov] = ensemble.members;
  const probe = withForeignBlock(training[0] ?? new Uint32Array());
  const z = (score: number, heldOut: Float64Array): number => {
    const mean = heldOut.reduce((a, b) => a + b, 0) / heldOut.length;
    const sd = Math.sqrt(heldOut.reduce((a, b) => a + (b - mean) ** 2, 0) / heldOut.length);
    // A member whose held-out scores never vary is left unscaled (sd taken as 1).
    return (score - mean) / (sd > 0 ? sd : 1);
  };
  const expected =
    (z(stide?.scoreTrace(probe).score ?? 0, stideHeldOut) +
      z(markov?.scoreTrace(probe).score ?? 0, markovHeldOut)) /
    2;
  assert.ok(Math.abs(ensemble.scoreTrace(probe).score - expected) < 1e-9);
  // The held-out ensemble scores of the training traces have mean zero by construction.
  const mean = ensemble.heldOutScores.reduce((a, b) => a + b, 0) / training.length;
  assert.ok(Math.abs(mean) < 1e-9);
});

test('the ensemble records how every member parameter was chosen', () => {
  const ensemble = EnsembleModel.train(training, {
    members: [{ kind: 'tstide' }, { kind: 'markov', options: { orderSearch: { orders: [1, 2] } } }],
  });
  const names = ensemble.parameters.map((p) => p.name);
  assert.deepEqual(names.slice(0, 3), ['weights', 'normalisation', 'members']);
  assert.equal(ensemble.parameters[2]?.value, 'tstide + markov');
  assert.equal(ensemble.parameters[2]?.chosenBy, 'set by the caller');
  const byDefault = EnsembleModel.train(training).parameters.find((p) => p.name === 'members');
  assert.equal(byDefault?.value, 'stide + tstide + markov');
  assert.match(byDefault?.chosenBy ?? '', /pre-registered choice .* on UNM\/MIT data/);
  assert.ok(names.includes('0.tstide.rareFrequency'));
  assert.ok(names.includes('1.markov.normalisation'));
  const order = ensemble.parameters.find((p) => p.name === '1.markov.order');
  assert.match(order?.chosenBy ?? '', /CV on training traces/);
});

test('a window is anomalous in the ensemble when any member flags it', () => {
  const ensemble = EnsembleModel.train(training, {
    members: [{ kind: 'stide' }, { kind: 'markov', options: { order: 2 } }],
  });
  const stide = ensemble.members[0];
  const probe = withForeignBlock(training[3] ?? new Uint32Array());
  assert.ok(
    ensemble.scoreTrace(probe).anomalousWindows >= (stide?.scoreTrace(probe).anomalousWindows ?? 0),
  );
  assert.throws(() => EnsembleModel.train(training, { members: [] }), RangeError);
  assert.throws(() => EnsembleModel.train(training.slice(0, 3)), RangeError);
});
