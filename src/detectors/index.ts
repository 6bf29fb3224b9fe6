/**
 * Public surface of `detectors`: sequence anomaly detectors over token sequences (system-call
 * numbers or I/O token ids), their evaluation and their model files. Depends on `core` only.
 */
export {
  DetectorKind,
  scoreThroughStream,
  type DetectorModelJson,
  type ParameterChoice,
  type TokenSequence,
  type TraceScore,
  type TrainedModel,
  type WindowScore,
  type WindowScorer,
} from './detector.js';
export { deserialize, isDetectorKind, train, type DetectorOptionsByKind } from './registry.js';
export { STIDE_DEFAULT_N, StideModel, type StideOptions } from './stide.js';
export { TSTIDE_DEFAULT_RARE_FREQUENCY, TStideModel, type TStideOptions } from './tstide.js';
export {
  MARKOV_DEFAULT_ORDER,
  MARKOV_DEFAULT_RARE_PROBABILITY,
  MarkovModel,
  type MarkovOptions,
} from './markov.js';
export {
  DEFAULT_MARKOV_ORDERS,
  selectMarkovOrder,
  trainMarkov,
  type MarkovOrderChoice,
  type MarkovOrderSearch,
  type MarkovTrainOptions,
} from './markov-order.js';
export {
  DEFAULT_ENSEMBLE_MEMBERS,
  EnsembleModel,
  type EnsembleMember,
  type EnsembleOptions,
} from './ensemble.js';
export {
  DEFAULT_FOLDS,
  crossValidatedScores,
  type CrossValidationOptions,
} from './cross-validation.js';
export {
  DEFAULT_TARGET_FALSE_ALARM_RATE,
  calibrateThreshold,
  trainCalibrated,
  type Calibration,
  type CalibrationOptions,
} from './threshold.js';
export {
  DEFAULT_MAX_PROGRAMS,
  PER_PROGRAM_KIND,
  PerProgramModel,
  type PerProgramJson,
  type PerProgramOptions,
} from './per-program.js';
export {
  DEFAULT_MAX_MODEL_FILE_BYTES,
  MODEL_FILE_FORMAT,
  MODEL_FILE_VERSION,
  decodeModelFile,
  encodeModelFile,
  readModelFile,
  writeModelFile,
  type LoadedModel,
  type ModelFileOptions,
  type StoredModel,
  type TokenSpace,
} from './model-file.js';
export {
  detectionRateAt,
  rocAuc,
  rocCurve,
  thresholdForFalseAlarmRate,
  type RocPoint,
} from './roc.js';
export {
  DEFAULT_FALSE_ALARM_RATES,
  evaluateDetector,
  evaluateScores,
  type DetectionAtRate,
  type Evaluation,
  type EvaluationData,
  type EvaluationOptions,
  type ScoreEvaluation,
} from './detector-evaluation.js';
export type { ModelReadLimits } from './_model-json.js';
