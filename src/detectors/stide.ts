/**
 * STIDE, the sequence time-delay embedding of Forrest, Hofmeyr, Somayaji and Longstaff, "A Sense of
 * Self for Unix Processes" (IEEE S&P 1996): normal behaviour is the set of all windows of n
 * consecutive calls seen in training, and a window absent from that set is a mismatch. The trace
 * score is the mismatch rate, the per-trace measure of that paper; Hofmeyr, Forrest and Somayaji
 * (J. Computer Security 1998) alarm on mismatches clustered in a locality frame, which
 * {@link StideModel.maxLocalityFrameCount} measures.
 */
import { assertNgramLength, assertToken, countNgrams, type NgramCounts } from './_ngram-counts.js';
import { DEFAULT_MAX_NGRAMS, ngramTableToJson, readNgramTable } from './_ngram-json.js';
import {
  field,
  readOptionalNumber,
  readParameters,
  type JsonObject,
  type ModelReadLimits,
} from './_model-json.js';
import {
  WindowCursor,
  WindowDatabase,
  openDatabaseStream,
  scoreAgainstDatabase,
} from './_window-database.js';
import {
  DetectorKind,
  type DetectorModelJson,
  type ParameterChoice,
  type TraceScore,
  type TrainedModel,
  type WindowScorer,
} from './detector.js';
import { replaceChoice } from './_parameters.js';

export interface StideOptions {
  /** Window length; default 6, the length Forrest et al. found enough to tell programs apart. */
  readonly n?: number;
}

export const STIDE_DEFAULT_N = 6;

export class StideModel implements TrainedModel {
  readonly kind = DetectorKind.stide;
  readonly threshold: number | undefined;
  readonly parameters: readonly ParameterChoice[];
  readonly #database: WindowDatabase;

  private constructor(
    database: WindowDatabase,
    parameters: readonly ParameterChoice[],
    threshold: number | undefined,
  ) {
    this.#database = database;
    this.parameters = parameters;
    this.threshold = threshold;
  }

  /**
   * Builds the normal database from `traces`.
   *
   * @example
   * ```ts
   * const model = StideModel.train([Uint32Array.of(1, 2, 3, 4)], { n: 2 });
   * model.scoreTrace(Uint32Array.of(1, 2, 4)).anomalousWindows; // 1: (2, 4) was never seen
   * ```
   */
  static train(traces: readonly Uint32Array[], options: StideOptions = {}): StideModel {
    const n = options.n ?? STIDE_DEFAULT_N;
    assertNgramLength(n, 'STIDE window length');
    const parameters: ParameterChoice[] = [
      {
        name: 'n',
        value: n,
        chosenBy:
          options.n === undefined
            ? 'fixed in advance: window length 6 of Forrest et al. 1996'
            : 'set by the caller',
      },
    ];
    return StideModel.#fromTable(countNgrams(traces, n), parameters, undefined);
  }

  static fromJSON(json: JsonObject, limits: ModelReadLimits = {}, path = ''): StideModel {
    const table = readNgramTable(
      field(json, 'table'),
      `${path}table`,
      limits.maxNgrams ?? DEFAULT_MAX_NGRAMS,
    );
    return StideModel.#fromTable(
      table,
      readParameters(field(json, 'parameters'), `${path}parameters`),
      readOptionalNumber(field(json, 'threshold'), `${path}threshold`),
    );
  }

  static #fromTable(
    table: NgramCounts,
    parameters: readonly ParameterChoice[],
    threshold: number | undefined,
  ): StideModel {
    return new StideModel(new WindowDatabase(table, 1), parameters, threshold);
  }

  /** Window length n. */
  get n(): number {
    return this.#database.table.n;
  }

  scoreTrace(trace: Uint32Array): TraceScore {
    return scoreAgainstDatabase(this.#database, trace);
  }

  openStream(): WindowScorer {
    return openDatabaseStream(this.#database);
  }

  /** Most mismatches among any `frame` consecutive windows (Hofmeyr et al. use 20). */
  maxLocalityFrameCount(trace: Uint32Array, frame = 20): number {
    if (!Number.isInteger(frame) || frame < 1) {
      throw new RangeError(`Locality frame must be a positive integer, got ${frame}`);
    }
    const cursor = new WindowCursor(this.#database);
    const mismatches = new Uint8Array(trace.length);
    let inFrame = 0;
    let peak = 0;
    for (let i = 0; i < trace.length; i++) {
      assertToken(trace[i] ?? 0, i);
      mismatches[i] = cursor.step(trace[i] ?? 0) ? 0 : 1;
      inFrame += (mismatches[i] ?? 0) - (i >= frame ? (mismatches[i - frame] ?? 0) : 0);
      if (inFrame > peak) peak = inFrame;
    }
    return peak;
  }

  withThreshold(threshold: number, choice: ParameterChoice): StideModel {
    return new StideModel(this.#database, replaceChoice(this.parameters, choice), threshold);
  }

  toJSON(): DetectorModelJson {
    return {
      kind: this.kind,
      table: ngramTableToJson(this.#database.table),
      threshold: this.threshold ?? null,
      parameters: this.parameters,
    };
  }
}
