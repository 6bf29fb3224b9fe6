/**
 * Alarm thresholds from normal data alone. Scoring training traces with a model trained on them
 * would make normal behaviour look more normal than it is, so each fold is scored by a model that
 * did not see it, and the threshold is the score that keeps the held-out false-alarm rate at or
 * below the target.
 */
import { DEFAULT_FOLDS, checkFolds, crossValidatedScores } from './cross-validation.js';
import { DetectorKind, type ParameterChoice, type TrainedModel } from './detector.js';
import { EnsembleModel } from './ensemble.js';
import { MarkovModel } from './markov.js';
import { train, type DetectorOptionsByKind } from './registry.js';
import { thresholdForFalseAlarmRate } from './roc.js';

export const DEFAULT_TARGET_FALSE_ALARM_RATE = 0.01;

export interface CalibrationOptions {
  /** Largest acceptable fraction of normal traces that alarm (default 0.01). */
  readonly targetFalseAlarmRate?: number;
  readonly folds?: number;
}

export interface Calibration {
  readonly threshold: number;
  /** Cross-validated scores of the training traces the threshold was taken from. */
  readonly heldOutScores: Float64Array;
  readonly choice: ParameterChoice;
}

/**
 * The threshold for `targetFalseAlarmRate` from k-fold held-out scores of normal traces.
 *
 * @example
 * ```ts
 * const normal = Array.from({ length: 20 }, (_, i) => Uint32Array.of(1, 2, 3, i % 4));
 * const { threshold } = calibrateThreshold(normal, (training) => train('stide', training, { n: 2 }));
 * ```
 */
export function calibrateThreshold(
  traces: readonly Uint32Array[],
  trainFold: (training: readonly Uint32Array[]) => TrainedModel,
  options: CalibrationOptions = {},
): Calibration {
  const folds = checkFolds(options.folds ?? DEFAULT_FOLDS, traces.length);
  const heldOutScores = crossValidatedScores(traces, trainFold, { folds });
  return fromHeldOutScores(heldOutScores, options.targetFalseAlarmRate, `${folds}-fold CV`);
}

/**
 * Trains a detector and stores the threshold calibrated for it. Parameters the model chose by
 * cross-validation are held fixed in the fold models, and an ensemble reuses the held-out scores
 * it already computed, so calibration costs k extra trainings at most.
 *
 * @example
 * ```ts
 * const normal = Array.from({ length: 20 }, (_, i) => Uint32Array.of(1, 2, 3, i % 4));
 * const model = trainCalibrated('markov', normal, { targetFalseAlarmRate: 0.05 });
 * model.scoreTrace(Uint32Array.of(9, 9, 9)).score > (model.threshold ?? Infinity); // true
 * ```
 */
export function trainCalibrated<K extends DetectorKind>(
  kind: K,
  traces: readonly Uint32Array[],
  options: CalibrationOptions & { readonly detector?: DetectorOptionsByKind[K] | undefined } = {},
): TrainedModel {
  const model = train(kind, traces, options.detector);
  const calibration =
    model instanceof EnsembleModel
      ? fromHeldOutScores(model.heldOutScores, options.targetFalseAlarmRate, 'ensemble CV')
      : calibrateThreshold(traces, refitter(kind, model, options.detector), options);
  return model.withThreshold(calibration.threshold, calibration.choice);
}

function refitter<K extends DetectorKind>(
  kind: K,
  model: TrainedModel,
  options: DetectorOptionsByKind[K] | undefined,
): (training: readonly Uint32Array[]) => TrainedModel {
  if (model instanceof MarkovModel) {
    return (training) =>
      train(DetectorKind.markov, training, {
        order: model.order,
        rareProbability: model.rareProbability,
      });
  }
  return (training) => train(kind, training, options);
}

function fromHeldOutScores(
  heldOutScores: Float64Array,
  target = DEFAULT_TARGET_FALSE_ALARM_RATE,
  how: string,
): Calibration {
  const threshold = thresholdForFalseAlarmRate(heldOutScores, target);
  return {
    threshold,
    heldOutScores,
    choice: {
      name: 'threshold',
      value: threshold,
      chosenBy: `${how} on training traces: held-out false-alarm rate at most ${target}`,
    },
  };
}
