import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PerProgramModel } from './per-program.js';
import { decodeModelFile, encodeModelFile } from './model-file.js';

const byProgram = new Map<string, Uint32Array[]>([
  ['cron', Array.from({ length: 6 }, () => Uint32Array.of(1, 2, 3, 1, 2, 3))],
  ['sshd', Array.from({ length: 6 }, () => Uint32Array.of(4, 5, 6, 4, 5, 6))],
  ['rare', [Uint32Array.of(7, 8, 9)]],
]);

test('each program is scored by its own model, unseen programs by the fallback', () => {
  const model = PerProgramModel.train('stide', byProgram, { detector: { n: 2 } });
  assert.deepEqual(model.programs, ['cron', 'sshd']);
  assert.equal(model.scoreTrace('cron', Uint32Array.of(1, 2, 3)).score, 0);
  // Normal for sshd, foreign to cron: a pooled model would have called it normal.
  assert.equal(model.scoreTrace('cron', Uint32Array.of(4, 5, 6)).anomalousWindows, 3);
  assert.equal(model.modelFor('rare'), model.fallback);
  assert.equal(model.scoreTrace('never-seen', Uint32Array.of(7, 8, 9)).score, 0);
});

test('per-program models round-trip through a model file, odd program names included', () => {
  const names = new Map(byProgram);
  names.set('__proto__', byProgram.get('cron') ?? []);
  const model = PerProgramModel.train('markov', names, { detector: { order: 2 }, calibration: {} });
  const copy = decodeModelFile(encodeModelFile(model)).model;
  assert.ok(copy instanceof PerProgramModel);
  assert.deepEqual(copy.programs, ['__proto__', 'cron', 'sshd']);
  const probe = Uint32Array.of(4, 5, 6);
  assert.deepEqual(copy.scoreTrace('__proto__', probe), model.scoreTrace('__proto__', probe));
  assert.equal(copy.modelFor('cron').threshold, model.modelFor('cron').threshold);
  assert.throws(() => PerProgramModel.train('stide', byProgram, { minTraces: 0 }), RangeError);
});
