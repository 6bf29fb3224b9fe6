import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StideModel } from './stide.js';

// Forrest et al. 1996, section 3, use this kind of example: normal "open read mmap mmap open getrlimit
// mmap close" with window 4. Calls are numbered: open 1, read 2, mmap 3, getrlimit 4, close 5.
const normal = Uint32Array.of(1, 2, 3, 3, 1, 4, 3, 5);

test('STIDE counts the windows absent from the normal database (hand-worked)', () => {
  const model = StideModel.train([normal], { n: 4 });
  // "open read mmap open open getrlimit mmap close": windows ending at each call, padded at the
  // start: (S S S 1) ok, (S S 1 2) ok, (S 1 2 3) ok, (1 2 3 1) no, (2 3 1 1) no, (3 1 1 4) no,
  // (1 1 4 3) no, (1 4 3 5) ok. Four mismatches in eight windows.
  const score = model.scoreTrace(Uint32Array.of(1, 2, 3, 1, 1, 4, 3, 5));
  assert.deepEqual(score, { score: 0.5, windows: 8, anomalousWindows: 4 });
  assert.deepEqual(model.scoreTrace(normal), { score: 0, windows: 8, anomalousWindows: 0 });
});

test('STIDE finds a mismatch after an unknown call and keeps tracking context', () => {
  const model = StideModel.train([normal], { n: 2 });
  // (S 1) ok, (1 9) no, (9 2) no, (2 3) ok: the call after the unknown one is judged fresh.
  assert.equal(model.scoreTrace(Uint32Array.of(1, 9, 2, 3)).anomalousWindows, 2);
});

test('STIDE with n = 1 is the set of calls the program makes', () => {
  const model = StideModel.train([normal], { n: 1 });
  assert.equal(model.scoreTrace(Uint32Array.of(5, 4, 3, 2, 1)).anomalousWindows, 0);
  assert.equal(model.scoreTrace(Uint32Array.of(6, 1)).anomalousWindows, 1);
});

test('STIDE start padding makes a known sequence anomalous at an unusual start', () => {
  const model = StideModel.train([normal], { n: 2 });
  // (S 3) was never a start; (3 3), (3 1) are known.
  assert.equal(model.scoreTrace(Uint32Array.of(3, 3, 1)).anomalousWindows, 1);
});

test('maxLocalityFrameCount is the most mismatches in any frame of windows', () => {
  const model = StideModel.train([normal], { n: 2 });
  const trace = Uint32Array.of(1, 9, 9, 2, 3, 3, 1, 9, 9);
  // Mismatches at windows 1, 2, 3 ((1 9), (9 9), (9 2)) and 7, 8 ((1 9), (9 9)).
  assert.equal(model.maxLocalityFrameCount(trace, 3), 3);
  assert.equal(model.maxLocalityFrameCount(trace, 9), 5);
  assert.equal(model.maxLocalityFrameCount(trace, 1), 1);
  assert.throws(() => model.maxLocalityFrameCount(trace, 0), RangeError);
});

test('STIDE records where its window length came from', () => {
  assert.match(StideModel.train([normal]).parameters[0]?.chosenBy ?? '', /Forrest/);
  assert.equal(StideModel.train([normal], { n: 3 }).parameters[0]?.chosenBy, 'set by the caller');
});
