/**
 * ADFA-LD under the standard protocol, through the same path as `vmsight eval`: the events importer
 * reads the dataset, every detector trains on the 833 Training_Data_Master traces only and scores
 * the 4,372 validation traces (normal) and the 746 attack traces. Every parameter is fixed in advance
 * or chosen by cross-validation on the training traces (the test prints the record). Floors sit just
 * under the measured values, which are deterministic.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DetectorKind } from '../detectors/index.js';
import { adfaLdDataset } from '../events/internal.js';
import { evaluateAdfaLd, type AdfaLdEvaluation } from './adfa-evaluation.js';

const dataset = adfaLdDataset();

void describe(
  'ADFA-LD under the standard protocol',
  { skip: dataset.skip, timeout: 600_000 },
  () => {
    let result: AdfaLdEvaluation;
    const measured = new Map<string, number>();

    before(async () => {
      result = await evaluateAdfaLd(dataset.root, { kinds: Object.values(DetectorKind) });
      for (const model of result.models) {
        measured.set(model.kind, model.auc);
        const rates = Object.entries(model.drAtFar).map(
          ([far, dr]) => `DR@${far}=${dr.toFixed(3)}`,
        );
        console.log(`${model.kind}: AUC ${model.auc.toFixed(4)} ${rates.join(' ')}`);
        for (const choice of model.parameters) {
          console.log(`  ${choice.name} = ${choice.value} (${choice.chosenBy})`);
        }
      }
    });

    it('the default ensemble and its members, trained on training traces only', () => {
      assert.deepEqual(result.traces, { training: 833, validation: 4372, attack: 746 });
      // Published figures under this protocol (LID-DS): STIDE and order-5 Markov about 0.83,
      // Kneser-Ney order-6 Markov 0.84, a-priori fusions about 0.83.
      assert.ok((measured.get('stide') ?? 0) >= 0.82);
      assert.ok((measured.get('tstide') ?? 0) >= 0.81);
      assert.ok((measured.get('markov') ?? 0) >= 0.84);
      assert.ok((measured.get('ensemble') ?? 0) >= 0.83);
    });

    it(
      'an AUC of 0.85 under the protocol',
      {
        todo: 'not reached: the best protocol-compliant model here is the Kneser-Ney Markov chain',
      },
      () => {
        const best = Math.max(...measured.values());
        assert.ok(best >= 0.85, `best AUC is ${best.toFixed(4)}`);
      },
    );
  },
);
