/**
 * ADFA-LD under the standard protocol: train on the 833 Training_Data_Master traces only, score the
 * 4,372 validation traces (normal) and the 746 attack traces, ROC AUC over traces. Every parameter
 * of the default ensemble is fixed in advance or chosen by cross-validation on the training traces
 * (the test prints the record). Floors sit just under the measured values, which are deterministic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAdfaLd, adfaLdRoot } from './_adfa-ld-files.js';
import { EnsembleModel } from './ensemble.js';
import { evaluateScores } from './detector-evaluation.js';
import type { TrainedModel } from './detector.js';

const data = loadAdfaLd();
const measured = new Map<string, number>();

function auc(model: TrainedModel): number {
  if (data === undefined) return Number.NaN;
  const normal = data.validation.map((trace) => model.scoreTrace(trace).score);
  const attack = data.attack.map((trace) => model.scoreTrace(trace).score);
  const result = evaluateScores(normal, attack);
  const rates = result.detection.map((d) => `DR@${d.falseAlarmRate}=${d.detectionRate.toFixed(3)}`);
  console.log(`${model.kind}: AUC ${result.auc.toFixed(4)} ${rates.join(' ')}`);
  return result.auc;
}

test('ADFA-LD: the default ensemble and its members, trained on training traces only', (t) => {
  if (data === undefined) {
    t.skip(`ADFA-LD not found at ${adfaLdRoot()} (set VMSIGHT_ADFA_LD)`);
    return;
  }
  assert.equal(data.training.length, 833);
  assert.equal(data.validation.length, 4372);
  assert.equal(data.attack.length, 746);
  const ensemble = EnsembleModel.train(data.training);
  for (const choice of ensemble.parameters) {
    console.log(`  ${choice.name} = ${choice.value} (${choice.chosenBy})`);
  }
  const [stide, tstide, markov] = ensemble.members;
  assert.ok(stide && tstide && markov);
  for (const model of [stide, tstide, markov, ensemble]) measured.set(model.kind, auc(model));
  // Published figures under this protocol (LID-DS): STIDE and order-5 Markov about 0.83,
  // Kneser-Ney order-6 Markov 0.84, a-priori fusions about 0.83.
  assert.ok((measured.get('stide') ?? 0) >= 0.82);
  assert.ok((measured.get('tstide') ?? 0) >= 0.81);
  assert.ok((measured.get('markov') ?? 0) >= 0.84);
  assert.ok((measured.get('ensemble') ?? 0) >= 0.83);
});

test(
  'ADFA-LD: an AUC of 0.85 under the protocol',
  { todo: 'not reached: the best protocol-compliant model here is the Kneser-Ney Markov chain' },
  (t) => {
    if (data === undefined) {
      t.skip(`ADFA-LD not found at ${adfaLdRoot()}`);
      return;
    }
    const best = Math.max(...measured.values());
    assert.ok(best >= 0.85, `best AUC is ${best.toFixed(4)}`);
  },
);
