/**
 * The conformance suite every detector kind must pass (one suite, run per kind, in the manner of
 * Hono's shared router tests): determinism, serialisation round trip, stream/trace agreement,
 * detection of an injected foreign sequence, and edge cases.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { normalTraces, withForeignBlock } from './_synthetic-traces.js';
import { DetectorKind, scoreThroughStream, type TrainedModel } from './detector.js';
import { deserialize, train } from './registry.js';

const training = normalTraces(40, 1);
const heldOut = normalTraces(10, 2);

for (const kind of Object.values(DetectorKind)) {
  describe(`detector contract: ${kind}`, () => {
    const model = train(kind, training);

    test('training is deterministic', () => {
      const again = train(kind, training);
      assert.equal(JSON.stringify(again), JSON.stringify(model));
      for (const trace of heldOut)
        assert.deepEqual(again.scoreTrace(trace), model.scoreTrace(trace));
    });

    test('serialize then deserialize gives identical scores', () => {
      const copy = deserialize(JSON.parse(JSON.stringify(model)));
      assert.equal(copy.kind, kind);
      assert.equal(JSON.stringify(copy), JSON.stringify(model));
      for (const trace of [...heldOut, withForeignBlock(heldOut[0] ?? new Uint32Array())]) {
        assert.deepEqual(copy.scoreTrace(trace), model.scoreTrace(trace));
      }
    });

    test('stream scoring equals whole-trace scoring', () => {
      for (const trace of [
        ...heldOut.slice(0, 3),
        withForeignBlock(heldOut[1] ?? new Uint32Array()),
      ]) {
        assert.deepEqual(scoreThroughStream(model, trace), model.scoreTrace(trace));
      }
      const stream = model.openStream();
      const windows = Array.from(heldOut[0] ?? [], (token) => stream.push(token));
      assert.deepEqual(
        windows.map((w) => w.index),
        windows.map((_, i) => i),
      );
      stream.reset();
      assert.deepEqual(stream.summary(), { score: 0, windows: 0, anomalousWindows: 0 });
      for (const token of heldOut[2] ?? []) stream.push(token);
      assert.deepEqual(stream.summary(), model.scoreTrace(heldOut[2] ?? new Uint32Array()));
    });

    test('an injected foreign sequence scores higher than normal traces', () => {
      const normalScores = heldOut.map((trace) => model.scoreTrace(trace).score);
      for (const trace of heldOut) {
        const infected = model.scoreTrace(withForeignBlock(trace));
        assert.ok(infected.score > Math.max(...normalScores), `${kind}: ${infected.score}`);
        assert.ok(infected.anomalousWindows >= model.scoreTrace(trace).anomalousWindows);
      }
    });

    test('empty, short and extreme-token traces are handled', () => {
      assert.deepEqual(model.scoreTrace(new Uint32Array(0)), {
        score: 0,
        windows: 0,
        anomalousWindows: 0,
      });
      assert.equal(model.scoreTrace(Uint32Array.of(11)).windows, 1);
      assert.ok(Number.isFinite(model.scoreTrace(Uint32Array.of(0, 0xfffffffe, 7)).score));
    });

    test('tokens that cannot be system-call numbers are rejected', () => {
      const invalid = (error: unknown): boolean => isVmsightError(error, 'INVALID_INPUT');
      assert.throws(() => model.scoreTrace(Uint32Array.of(3, 0xffffffff)), invalid);
      for (const token of [-1, 1.5, 2 ** 32, Number.NaN]) {
        assert.throws(() => model.openStream().push(token), invalid);
      }
    });

    test('a threshold is stored, recorded and survives a round trip', () => {
      const withThreshold: TrainedModel = model.withThreshold(0.25, {
        name: 'threshold',
        value: 0.25,
        chosenBy: 'a test',
      });
      assert.equal(withThreshold.threshold, 0.25);
      assert.equal(model.threshold, undefined);
      const copy = deserialize(JSON.parse(JSON.stringify(withThreshold)));
      assert.equal(copy.threshold, 0.25);
      assert.equal(copy.parameters.filter((p) => p.name === 'threshold').length, 1);
    });

    test('training on traces without tokens fails', () => {
      assert.throws(() =>
        train(
          kind,
          Array.from({ length: 6 }, () => new Uint32Array(0)),
        ),
      );
    });
  });
}
