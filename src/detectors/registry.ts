/**
 * One entry point per operation for every detector kind: `train` and `deserialize`. Callers (the
 * CLI, the per-program wrapper, threshold calibration) name a kind and never import a detector
 * class, so adding a kind is a change here and in `DetectorKind` only.
 */
import { field, invalid, readObject, readString, type ModelReadLimits } from './_model-json.js';
import { DetectorKind, type TrainedModel } from './detector.js';
import { EnsembleModel, type EnsembleOptions } from './ensemble.js';
import { MarkovModel } from './markov.js';
import { trainMarkov, type MarkovTrainOptions } from './markov-order.js';
import { StideModel, type StideOptions } from './stide.js';
import { TStideModel, type TStideOptions } from './tstide.js';

/** The training options each kind accepts. */
export interface DetectorOptionsByKind {
  readonly stide: StideOptions;
  readonly tstide: TStideOptions;
  readonly markov: MarkovTrainOptions;
  readonly ensemble: EnsembleOptions;
}

/**
 * Trains a detector of `kind` on normal traces.
 *
 * @example
 * ```ts
 * const normal = [Uint32Array.of(5, 3, 3, 4, 6), Uint32Array.of(5, 3, 4, 6)];
 * const model = train('stide', normal, { n: 3 });
 * model.scoreTrace(Uint32Array.of(5, 3, 3, 4, 6)).score; // 0: every window is known
 * ```
 */
export function train<K extends DetectorKind>(
  kind: K,
  traces: readonly Uint32Array[],
  options?: DetectorOptionsByKind[K],
): TrainedModel {
  const known: DetectorKind = kind;
  switch (known) {
    case DetectorKind.stide:
      return StideModel.train(traces, options as StideOptions | undefined);
    case DetectorKind.tstide:
      return TStideModel.train(traces, options as TStideOptions | undefined);
    case DetectorKind.markov:
      return trainMarkov(traces, options as MarkovTrainOptions | undefined);
    case DetectorKind.ensemble:
      return EnsembleModel.train(traces, options as EnsembleOptions | undefined);
  }
}

/**
 * Rebuilds a model from its `toJSON()` form, validating every field: the JSON may come from an
 * untrusted file. Throws MODEL_INVALID naming the first bad field.
 *
 * @example
 * ```ts
 * const copy = deserialize(JSON.parse(JSON.stringify(train('stide', [Uint32Array.of(1, 2)]))));
 * ```
 */
export function deserialize(json: unknown, limits: ModelReadLimits = {}): TrainedModel {
  const object = readObject(json, 'model');
  const kind = readString(field(object, 'kind'), 'kind');
  switch (kind) {
    case DetectorKind.stide:
      return StideModel.fromJSON(object, limits);
    case DetectorKind.tstide:
      return TStideModel.fromJSON(object, limits);
    case DetectorKind.markov:
      return MarkovModel.fromJSON(object, limits);
    case DetectorKind.ensemble:
      return EnsembleModel.fromJSON(object, limits);
    default:
      throw invalid(
        'kind',
        `must be one of ${Object.values(DetectorKind).join(', ')}, got "${kind}"`,
      );
  }
}

/**
 * Type guard for strings naming a detector kind (for command-line options).
 *
 * @example
 * ```ts
 * isDetectorKind('markov'); // true
 * ```
 */
export function isDetectorKind(value: string): value is DetectorKind {
  return (Object.values(DetectorKind) as string[]).includes(value);
}
