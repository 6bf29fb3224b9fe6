import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StideModel } from './stide.js';
import { TStideModel } from './tstide.js';

// 1 2 repeated, with a single 1 3: windows (S 1) ×1, (1 2) ×5, (2 1) ×5, (1 3) ×1 — twelve in all.
const normal = [Uint32Array.of(1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 3)];

test('t-STIDE counts windows rarer than the threshold as anomalous, STIDE does not', () => {
  const tstide = TStideModel.train(normal, { n: 2, rareFrequency: 0.1 });
  const stide = StideModel.train(normal, { n: 2 });
  const probe = Uint32Array.of(1, 3, 1, 2);
  // (S 1) 1/12 and (1 3) 1/12 fall under 10%; (3 1) is unseen; (1 2) is common.
  assert.equal(tstide.scoreTrace(probe).anomalousWindows, 3);
  assert.equal(stide.scoreTrace(probe).anomalousWindows, 1);
});

test('t-STIDE at its default threshold behaves like STIDE on small data', () => {
  const tstide = TStideModel.train(normal, { n: 2 });
  assert.equal(tstide.rareFrequency, 0.00001);
  assert.equal(tstide.scoreTrace(Uint32Array.of(1, 3, 1, 2)).anomalousWindows, 1);
});

test('t-STIDE rejects a frequency outside 0..1', () => {
  assert.throws(() => TStideModel.train(normal, { rareFrequency: 2 }), RangeError);
  assert.throws(() => TStideModel.train(normal, { rareFrequency: Number.NaN }), RangeError);
});
