/**
 * The evaluation protocol of `vmsight eval`: train on normal training traces only, score held-out
 * normal traces and attack traces, and report ROC AUC, detection rates at fixed false-alarm rates
 * and the record of how every parameter was chosen. Nothing about the test traces flows back into
 * the model: they are scored after training has finished.
 */
import type { DetectorKind, ParameterChoice, TrainedModel } from './detector.js';
import { train, type DetectorOptionsByKind } from './registry.js';
import { detectionRateAt, rocAuc, rocCurve, type RocPoint } from './roc.js';

export const DEFAULT_FALSE_ALARM_RATES: readonly number[] = [0.01, 0.05, 0.1];

export interface EvaluationData {
  /** Normal traces the detector may learn from. */
  readonly train: readonly Uint32Array[];
  /** Normal traces it never sees before scoring (label: normal). */
  readonly normal: readonly Uint32Array[];
  /** Attack traces (label: attack). */
  readonly attack: readonly Uint32Array[];
}

export interface DetectionAtRate {
  readonly falseAlarmRate: number;
  readonly detectionRate: number;
  /** The trace-score threshold that gives it (alarm when score > threshold). */
  readonly threshold: number;
  /** False-alarm rate actually reached (at most the target; lower with ties). */
  readonly observedFalseAlarmRate: number;
}

export interface ScoreEvaluation {
  readonly auc: number;
  readonly detection: readonly DetectionAtRate[];
  readonly roc: readonly RocPoint[];
}

export interface Evaluation extends ScoreEvaluation {
  readonly kind: DetectorKind;
  readonly parameters: readonly ParameterChoice[];
  readonly trainMilliseconds: number;
  readonly scoreMilliseconds: number;
  readonly callsScored: number;
  readonly normalScores: Float64Array;
  readonly attackScores: Float64Array;
}

export interface EvaluationOptions<K extends DetectorKind> {
  readonly detector?: DetectorOptionsByKind[K];
  readonly falseAlarmRates?: readonly number[];
  /** Milliseconds clock for the timings (default `performance.now`). */
  readonly clock?: () => number;
}

/**
 * AUC, detection rates and ROC curve of given scores.
 *
 * @example
 * ```ts
 * evaluateScores([0.1, 0.2, 0.3], [0.25, 0.9]).auc; // 5 / 6
 * ```
 */
export function evaluateScores(
  normalScores: ArrayLike<number>,
  attackScores: ArrayLike<number>,
  falseAlarmRates: readonly number[] = DEFAULT_FALSE_ALARM_RATES,
): ScoreEvaluation {
  return {
    auc: rocAuc(normalScores, attackScores),
    detection: falseAlarmRates.map((rate) => {
      const result = detectionRateAt({ normal: normalScores, attack: attackScores }, rate);
      return {
        falseAlarmRate: rate,
        detectionRate: result.detectionRate,
        threshold: result.threshold,
        observedFalseAlarmRate: result.falseAlarmRate,
      };
    }),
    roc: rocCurve(normalScores, attackScores),
  };
}

/**
 * Trains `kind` on `data.train`, then scores `data.normal` and `data.attack`.
 *
 * @example
 * ```ts
 * const normal = Array.from({ length: 10 }, () => Uint32Array.of(1, 2, 3, 1, 2, 3));
 * const result = evaluateDetector('markov', {
 *   train: normal,
 *   normal: [Uint32Array.of(1, 2, 3)],
 *   attack: [Uint32Array.of(3, 3, 1)],
 * });
 * result.auc; // 1
 * ```
 */
export function evaluateDetector<K extends DetectorKind>(
  kind: K,
  data: EvaluationData,
  options: EvaluationOptions<K> = {},
): Evaluation {
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const model = train(kind, data.train, options.detector);
  const trained = clock();
  const normalScores = scoreAll(model, data.normal);
  const attackScores = scoreAll(model, data.attack);
  const scored = clock();
  let callsScored = 0;
  for (const trace of [...data.normal, ...data.attack]) callsScored += trace.length;
  return {
    kind,
    ...evaluateScores(normalScores, attackScores, options.falseAlarmRates),
    parameters: model.parameters,
    trainMilliseconds: trained - started,
    scoreMilliseconds: scored - trained,
    callsScored,
    normalScores,
    attackScores,
  };
}

function scoreAll(model: TrainedModel, traces: readonly Uint32Array[]): Float64Array {
  return Float64Array.from(traces, (trace) => model.scoreTrace(trace).score);
}
