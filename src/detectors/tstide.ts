/**
 * t-STIDE, STIDE with frequency thresholds (Warrender, Forrest and Pearlmutter, "Detecting
 * Intrusions Using System Calls: Alternative Data Models", IEEE S&P 1999): a window that training
 * saw, but in less than a small fraction of all windows, counts as a mismatch too, because rare
 * normal sequences and attack sequences look alike to plain STIDE.
 */
import { assertNgramLength, countNgrams, type NgramCounts } from './_ngram-counts.js';
import { DEFAULT_MAX_NGRAMS, ngramTableToJson, readNgramTable } from './_ngram-json.js';
import {
  field,
  readNumber,
  readOptionalNumber,
  readParameters,
  type JsonObject,
  type ModelReadLimits,
} from './_model-json.js';
import { replaceChoice } from './_parameters.js';
import { WindowDatabase, openDatabaseStream, scoreAgainstDatabase } from './_window-database.js';
import {
  DetectorKind,
  type DetectorModelJson,
  type ParameterChoice,
  type TraceScore,
  type TrainedModel,
  type WindowScorer,
} from './detector.js';
import { STIDE_DEFAULT_N } from './stide.js';

export interface TStideOptions {
  /** Window length (default 6, as STIDE). */
  readonly n?: number;
  /** Windows rarer than this fraction of all training windows are anomalous (default 0.001%). */
  readonly rareFrequency?: number;
}

/** Warrender et al. 1999 flag sequences that make up less than 0.001% of normal data. */
export const TSTIDE_DEFAULT_RARE_FREQUENCY = 0.00001;

export class TStideModel implements TrainedModel {
  readonly kind = DetectorKind.tstide;
  readonly threshold: number | undefined;
  readonly parameters: readonly ParameterChoice[];
  readonly rareFrequency: number;
  readonly #database: WindowDatabase;

  private constructor(
    table: NgramCounts,
    rareFrequency: number,
    parameters: readonly ParameterChoice[],
    threshold: number | undefined,
  ) {
    let total = 0;
    for (const count of table.counts) total += count;
    this.#database = new WindowDatabase(table, Math.max(1, rareFrequency * total));
    this.rareFrequency = rareFrequency;
    this.parameters = parameters;
    this.threshold = threshold;
  }

  /**
   * Builds the normal database with window frequencies.
   *
   * @example
   * ```ts
   * const normal = [Uint32Array.of(1, 2, 1, 2, 1, 2, 1, 2, 3)];
   * const model = TStideModel.train(normal, { n: 2, rareFrequency: 0.2 });
   * model.scoreTrace(Uint32Array.of(1, 2, 3)).anomalousWindows; // 2: (2, 3) and (start, 1) are rare
   * ```
   */
  static train(traces: readonly Uint32Array[], options: TStideOptions = {}): TStideModel {
    const n = options.n ?? STIDE_DEFAULT_N;
    assertNgramLength(n, 't-STIDE window length');
    const rareFrequency = checkRareFrequency(
      options.rareFrequency ?? TSTIDE_DEFAULT_RARE_FREQUENCY,
    );
    const parameters: ParameterChoice[] = [
      {
        name: 'n',
        value: n,
        chosenBy:
          options.n === undefined
            ? 'fixed in advance: window length 6 of Forrest et al. 1996'
            : 'set by the caller',
      },
      {
        name: 'rareFrequency',
        value: rareFrequency,
        chosenBy:
          options.rareFrequency === undefined
            ? 'fixed in advance: 0.001% of Warrender et al. 1999'
            : 'set by the caller',
      },
    ];
    return new TStideModel(countNgrams(traces, n), rareFrequency, parameters, undefined);
  }

  static fromJSON(json: JsonObject, limits: ModelReadLimits = {}, path = ''): TStideModel {
    const table = readNgramTable(
      field(json, 'table'),
      `${path}table`,
      limits.maxNgrams ?? DEFAULT_MAX_NGRAMS,
    );
    return new TStideModel(
      table,
      readNumber(field(json, 'rareFrequency'), `${path}rareFrequency`, { min: 0, max: 1 }),
      readParameters(field(json, 'parameters'), `${path}parameters`),
      readOptionalNumber(field(json, 'threshold'), `${path}threshold`),
    );
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

  withThreshold(threshold: number, choice: ParameterChoice): TStideModel {
    return new TStideModel(
      this.#database.table,
      this.rareFrequency,
      replaceChoice(this.parameters, choice),
      threshold,
    );
  }

  toJSON(): DetectorModelJson {
    return {
      kind: this.kind,
      table: ngramTableToJson(this.#database.table),
      rareFrequency: this.rareFrequency,
      threshold: this.threshold ?? null,
      parameters: this.parameters,
    };
  }
}

function checkRareFrequency(value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new RangeError(`t-STIDE rare frequency must be from 0 to 1, got ${value}`);
  }
  return value;
}
