/**
 * An order-k Markov chain over calls with interpolated modified Kneser–Ney smoothing (Chen and
 * Goodman 1998): every order from 0 to k contributes, so a context training never saw backs off to
 * shorter ones instead of scoring zero. The window score is the surprisal −ln P(call | previous k
 * calls) in nats, and the trace score its mean, the per-call cross-entropy of the trace under the
 * model of normal.
 */
import { ContextTrie } from './_context-trie.js';
import { estimateKneserNey, type KneserNeyTables } from './_kneser-ney.js';
import { assertNgramLength, assertToken, countNgrams, type NgramCounts } from './_ngram-counts.js';
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
import {
  DetectorKind,
  ScoreAccumulator,
  type DetectorModelJson,
  type ParameterChoice,
  type TraceScore,
  type TrainedModel,
  type WindowScore,
  type WindowScorer,
} from './detector.js';

export interface MarkovOptions {
  /** Number of previous calls the chain conditions on (default 6; at most 15). */
  readonly order?: number;
  /** Calls less probable than this are counted as anomalous windows (default 0.001). */
  readonly rareProbability?: number;
  /** Audit note for `order` when the caller chose it by a documented procedure. */
  readonly orderChosenBy?: string;
}

export const MARKOV_DEFAULT_ORDER = 6;
export const MARKOV_DEFAULT_RARE_PROBABILITY = 0.001;

export class MarkovModel implements TrainedModel {
  readonly kind = DetectorKind.markov;
  readonly threshold: number | undefined;
  readonly parameters: readonly ParameterChoice[];
  readonly rareProbability: number;
  readonly #table: NgramCounts;
  readonly #trie: ContextTrie;
  readonly #tables: KneserNeyTables;
  readonly #rareSurprisal: number;

  private constructor(
    table: NgramCounts,
    rareProbability: number,
    parameters: readonly ParameterChoice[],
    threshold: number | undefined,
  ) {
    this.#table = table;
    this.#trie = ContextTrie.fromCounts(table);
    this.#tables = estimateKneserNey(this.#trie);
    this.rareProbability = rareProbability;
    this.#rareSurprisal = -Math.log(rareProbability);
    this.parameters = parameters;
    this.threshold = threshold;
  }

  /**
   * Fits the chain to `traces`.
   *
   * @example
   * ```ts
   * const model = MarkovModel.train([Uint32Array.of(1, 2, 3, 1, 2, 3)], { order: 2 });
   * model.scoreTrace(Uint32Array.of(1, 2, 3)).score < model.scoreTrace(Uint32Array.of(3, 2, 1)).score; // true
   * ```
   */
  static train(traces: readonly Uint32Array[], options: MarkovOptions = {}): MarkovModel {
    const order = options.order ?? MARKOV_DEFAULT_ORDER;
    assertNgramLength(order + 1, 'Markov order + 1');
    const rareProbability = options.rareProbability ?? MARKOV_DEFAULT_RARE_PROBABILITY;
    if (!(rareProbability > 0 && rareProbability < 1)) {
      throw new RangeError(`Markov rare probability must be in (0, 1), got ${rareProbability}`);
    }
    const table = countNgrams(traces, order + 1);
    const model = new MarkovModel(table, rareProbability, [], undefined);
    const discounts = Array.from(model.#tables.discounts, (d) => d.toFixed(3)).join(' ');
    const parameters: ParameterChoice[] = [
      {
        name: 'order',
        value: order,
        chosenBy:
          options.orderChosenBy ??
          (options.order === undefined
            ? `fixed in advance: ${MARKOV_DEFAULT_ORDER} previous calls`
            : 'set by the caller'),
      },
      {
        name: 'discounts',
        value: discounts,
        chosenBy:
          'estimated from training counts, Chen & Goodman 1998 closed form (D1 D2 D3+ per order)',
      },
      {
        name: 'rareProbability',
        value: rareProbability,
        chosenBy:
          options.rareProbability === undefined
            ? 'fixed in advance: one call in a thousand'
            : 'set by the caller',
      },
    ];
    return new MarkovModel(table, rareProbability, parameters, undefined);
  }

  static fromJSON(json: JsonObject, limits: ModelReadLimits = {}, path = ''): MarkovModel {
    const table = readNgramTable(
      field(json, 'table'),
      `${path}table`,
      limits.maxNgrams ?? DEFAULT_MAX_NGRAMS,
    );
    return new MarkovModel(
      table,
      readNumber(field(json, 'rareProbability'), `${path}rareProbability`, {
        min: 1e-300,
        max: 0.999999,
      }),
      readParameters(field(json, 'parameters'), `${path}parameters`),
      readOptionalNumber(field(json, 'threshold'), `${path}threshold`),
    );
  }

  /** Number of previous calls the chain conditions on. */
  get order(): number {
    return this.#table.n - 1;
  }

  scoreTrace(trace: Uint32Array): TraceScore {
    const trie = this.#trie;
    const { entryLogProbability, backoffLog, unknownLogProbability } = this.#tables;
    const accumulator = new ScoreAccumulator();
    let state = trie.startState;
    for (let i = 0; i < trace.length; i++) {
      const token = trace[i] ?? 0;
      assertToken(token, i);
      const id = trie.idOf(token);
      let logProbability = 0;
      let entry = trie.findEntry(state, id);
      while (entry < 0 && state !== 0) {
        logProbability += backoffLog[state] ?? 0;
        state = trie.parent[state] ?? 0;
        entry = trie.findEntry(state, id);
      }
      if (entry >= 0) {
        logProbability += entryLogProbability[entry] ?? 0;
        state = trie.entryNext[entry] ?? 0;
      } else {
        logProbability += unknownLogProbability;
      }
      const surprisal = -logProbability;
      accumulator.add(surprisal, surprisal > this.#rareSurprisal);
    }
    return accumulator.summary();
  }

  openStream(): WindowScorer {
    return new MarkovStream(this.#trie, this.#tables, this.#rareSurprisal);
  }

  withThreshold(threshold: number, choice: ParameterChoice): MarkovModel {
    return new MarkovModel(
      this.#table,
      this.rareProbability,
      replaceChoice(this.parameters, choice),
      threshold,
    );
  }

  toJSON(): DetectorModelJson {
    return {
      kind: this.kind,
      table: ngramTableToJson(this.#table),
      rareProbability: this.rareProbability,
      threshold: this.threshold ?? null,
      parameters: this.parameters,
    };
  }
}

class MarkovStream implements WindowScorer {
  readonly #trie: ContextTrie;
  readonly #tables: KneserNeyTables;
  readonly #rareSurprisal: number;
  readonly #accumulator = new ScoreAccumulator();
  #state: number;
  #index = 0;

  constructor(trie: ContextTrie, tables: KneserNeyTables, rareSurprisal: number) {
    this.#trie = trie;
    this.#tables = tables;
    this.#rareSurprisal = rareSurprisal;
    this.#state = trie.startState;
  }

  push(token: number): WindowScore {
    assertToken(token, this.#index);
    const trie = this.#trie;
    const id = trie.idOf(token);
    let state = this.#state;
    let logProbability = 0;
    let entry = trie.findEntry(state, id);
    while (entry < 0 && state !== 0) {
      logProbability += this.#tables.backoffLog[state] ?? 0;
      state = trie.parent[state] ?? 0;
      entry = trie.findEntry(state, id);
    }
    if (entry >= 0) {
      logProbability += this.#tables.entryLogProbability[entry] ?? 0;
      state = trie.entryNext[entry] ?? 0;
    } else {
      logProbability += this.#tables.unknownLogProbability;
    }
    this.#state = state;
    const surprisal = -logProbability;
    const anomalous = surprisal > this.#rareSurprisal;
    this.#accumulator.add(surprisal, anomalous);
    return { index: this.#index++, score: surprisal, anomalous };
  }

  summary(): TraceScore {
    return this.#accumulator.summary();
  }

  reset(): void {
    this.#state = this.#trie.startState;
    this.#accumulator.reset();
    this.#index = 0;
  }
}
