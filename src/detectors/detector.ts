/**
 * The detector contract. A detector learns what normal token sequences look like (system-call
 * numbers, or I/O token ids) and scores new ones: higher is more anomalous. Detectors are pure and
 * deterministic: the same training traces give the same model, and the same trace the same score,
 * whether scored whole or streamed one token at a time.
 */

/** The detector kinds {@link train} and {@link deserialize} know. */
export const DetectorKind = {
  /** Forrest et al. 1996: is each window of n calls in the normal database? */
  stide: 'stide',
  /** Warrender et al. 1999: STIDE that also counts windows rare in training as anomalous. */
  tstide: 'tstide',
  /** Order-k Markov chain with interpolated Kneser–Ney smoothing: surprisal of each call. */
  markov: 'markov',
  /** Members normalised by their cross-validated scores on normal training traces, averaged. */
  ensemble: 'ensemble',
} as const;
export type DetectorKind = (typeof DetectorKind)[keyof typeof DetectorKind];

/** A trace as the detectors see it: one token per event, oldest first. */
export type TokenSequence = Uint32Array;

/** The verdict on a whole trace. */
export interface TraceScore {
  /** Mean of the window scores (0 for an empty trace); higher is more anomalous. */
  readonly score: number;
  /** Number of windows scored: one per token, because traces are padded at their start. */
  readonly windows: number;
  /** Windows the detector itself calls anomalous (mismatch, rare window, improbable call). */
  readonly anomalousWindows: number;
}

/** The verdict on the window that ends at one token. */
export interface WindowScore {
  /** Position of the window's last token in the stream (0-based). */
  readonly index: number;
  readonly score: number;
  readonly anomalous: boolean;
}

/** Live scoring: push tokens as they arrive; every token completes one window. */
export interface WindowScorer {
  push(token: number): WindowScore;
  /** The trace score of everything pushed so far: equal to `scoreTrace` of the same tokens. */
  summary(): TraceScore;
  /** Starts a new trace. */
  reset(): void;
}

/** How one parameter got its value: the audit trail `vmsight eval` prints. */
export interface ParameterChoice {
  readonly name: string;
  readonly value: number | string;
  /** For example "fixed in advance (Forrest et al. 1996)" or "5-fold CV on training traces". */
  readonly chosenBy: string;
}

/** The serialised form of a model, as stored inside a model file. */
export interface DetectorModelJson {
  readonly kind: DetectorKind;
  readonly [field: string]: unknown;
}

export interface TrainedModel {
  readonly kind: DetectorKind;
  /** Trace-score alarm threshold, when one was calibrated (see `calibrateThreshold`). */
  readonly threshold: number | undefined;
  /** Every parameter of the model and how it was chosen. */
  readonly parameters: readonly ParameterChoice[];
  scoreTrace(trace: TokenSequence): TraceScore;
  openStream(): WindowScorer;
  /** A copy that raises alarms above `threshold`. */
  withThreshold(threshold: number, choice: ParameterChoice): TrainedModel;
  toJSON(): DetectorModelJson;
}

/** Running mean of window scores, shared by every detector's stream and trace scoring. */
export class ScoreAccumulator {
  #sum = 0;
  #windows = 0;
  #anomalous = 0;

  add(score: number, anomalous: boolean): void {
    this.#sum += score;
    this.#windows += 1;
    if (anomalous) this.#anomalous += 1;
  }

  summary(): TraceScore {
    return {
      score: this.#windows === 0 ? 0 : this.#sum / this.#windows,
      windows: this.#windows,
      anomalousWindows: this.#anomalous,
    };
  }

  reset(): void {
    this.#sum = 0;
    this.#windows = 0;
    this.#anomalous = 0;
  }
}

/**
 * Scores a whole trace through a stream: the reference every fast path must agree with.
 *
 * @example
 * ```ts
 * const model = train('stide', [Uint32Array.of(1, 2, 3)]);
 * scoreThroughStream(model, Uint32Array.of(1, 2)); // equal to model.scoreTrace(Uint32Array.of(1, 2))
 * ```
 */
export function scoreThroughStream(model: TrainedModel, trace: TokenSequence): TraceScore {
  const stream = model.openStream();
  for (const token of trace) stream.push(token);
  return stream.summary();
}
