/**
 * k-fold cross-validation over normal training traces: the only way parameters, normalisation
 * statistics and alarm thresholds are fitted to data in this folder, so that nothing ever looks at
 * test or attack traces. Fold membership is `index mod folds`, deterministic and independent of
 * the trace contents.
 */
import type { TrainedModel } from './detector.js';

export const DEFAULT_FOLDS = 5;

export interface CrossValidationOptions {
  /** Number of folds (default 5; at least 2 and at most the number of traces). */
  readonly folds?: number;
}

/** Throws unless `folds` can split `count` traces. */
export function checkFolds(folds: number, count: number): number {
  if (!Number.isInteger(folds) || folds < 2 || folds > count) {
    throw new RangeError(`Cross-validation needs 2 to ${count} folds, got ${folds}`);
  }
  return folds;
}

/** The traces of every fold but `fold`, and those of `fold`, as index lists. */
export function splitFold(
  count: number,
  folds: number,
  fold: number,
): { readonly training: number[]; readonly heldOut: number[] } {
  const training: number[] = [];
  const heldOut: number[] = [];
  for (let i = 0; i < count; i++) (i % folds === fold ? heldOut : training).push(i);
  return { training, heldOut };
}

/**
 * Scores every trace with a model trained on the other folds: what the detector says about normal
 * traces it has not seen.
 *
 * @example
 * ```ts
 * const traces = [Uint32Array.of(1, 2, 3), Uint32Array.of(1, 2, 3), Uint32Array.of(1, 2, 4)];
 * const heldOut = crossValidatedScores(traces, (training) => StideModel.train(training, { n: 2 }), {
 *   folds: 3,
 * });
 * heldOut[2]; // 1 / 3: of its windows (start, 1), (1, 2), (2, 4), the last never occurs elsewhere
 * ```
 */
export function crossValidatedScores(
  traces: readonly Uint32Array[],
  trainFold: (training: readonly Uint32Array[]) => TrainedModel,
  options: CrossValidationOptions = {},
): Float64Array {
  const folds = checkFolds(options.folds ?? DEFAULT_FOLDS, traces.length);
  const scores = new Float64Array(traces.length);
  for (let fold = 0; fold < folds; fold++) {
    const { training, heldOut } = splitFold(traces.length, folds, fold);
    const model = trainFold(training.map((i) => traces[i] ?? new Uint32Array(0)));
    for (const i of heldOut) scores[i] = model.scoreTrace(traces[i] ?? new Uint32Array(0)).score;
  }
  return scores;
}
