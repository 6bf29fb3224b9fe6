/**
 * Choosing the Markov order from normal training traces alone: the order whose k-fold held-out
 * cross-entropy (mean surprisal per call of traces the model did not see) is lowest. This is the
 * standard model-selection criterion for n-gram models (Chen & Goodman 1998 compare smoothing
 * methods the same way) and needs no attack data.
 */
import { checkFolds, DEFAULT_FOLDS, splitFold } from './cross-validation.js';
import { MARKOV_DEFAULT_ORDER, MarkovModel, type MarkovOptions } from './markov.js';

/** Orders searched by default: 1 to 7 previous calls (n-grams of 2 to 8 calls). */
export const DEFAULT_MARKOV_ORDERS: readonly number[] = [1, 2, 3, 4, 5, 6, 7];

export interface MarkovOrderSearch {
  readonly orders?: readonly number[];
  readonly folds?: number;
}

export interface MarkovOrderChoice {
  readonly order: number;
  /** Held-out cross-entropy in nats per call, for each order searched. */
  readonly crossEntropy: ReadonlyArray<{ readonly order: number; readonly nats: number }>;
  /** The audit note recorded in the model's parameters. */
  readonly chosenBy: string;
}

/**
 * Picks the order with the lowest held-out cross-entropy (the smaller order on a tie).
 *
 * @example
 * ```ts
 * const traces = Array.from({ length: 6 }, () => Uint32Array.of(1, 2, 3, 4, 1, 2, 3, 4));
 * selectMarkovOrder(traces, { orders: [1, 2], folds: 3 }).order; // 2: 0.192 nats per call against 0.212
 * ```
 */
export function selectMarkovOrder(
  traces: readonly Uint32Array[],
  search: MarkovOrderSearch = {},
): MarkovOrderChoice {
  const orders = search.orders ?? DEFAULT_MARKOV_ORDERS;
  if (orders.length === 0) throw new RangeError('Markov order search needs at least one order');
  const folds = checkFolds(search.folds ?? DEFAULT_FOLDS, traces.length);
  const crossEntropy = orders.map((order) => {
    let surprisal = 0;
    let calls = 0;
    for (let fold = 0; fold < folds; fold++) {
      const { training, heldOut } = splitFold(traces.length, folds, fold);
      const model = MarkovModel.train(
        training.map((i) => traces[i] ?? new Uint32Array(0)),
        { order },
      );
      for (const i of heldOut) {
        const result = model.scoreTrace(traces[i] ?? new Uint32Array(0));
        surprisal += result.score * result.windows;
        calls += result.windows;
      }
    }
    return { order, nats: calls === 0 ? Infinity : surprisal / calls };
  });
  let best = crossEntropy[0] ?? { order: orders[0] ?? 1, nats: Infinity };
  for (const candidate of crossEntropy) if (candidate.nats < best.nats) best = candidate;
  const table = crossEntropy.map((c) => `${c.order}: ${c.nats.toFixed(4)}`).join(', ');
  return {
    order: best.order,
    crossEntropy,
    chosenBy: `${folds}-fold CV on training traces: lowest held-out cross-entropy, nats per call (${table})`,
  };
}

/** Markov training options where the order may be left to cross-validation. */
export interface MarkovTrainOptions extends Omit<MarkovOptions, 'order' | 'orderChosenBy'> {
  /**
   * Previous calls to condition on, or 'cross-validate' (the default when there are at least as
   * many traces as folds) to pick it with {@link selectMarkovOrder}.
   */
  readonly order?: number | 'cross-validate';
  readonly orderSearch?: MarkovOrderSearch;
}

/**
 * Trains a Markov model, resolving `order: 'cross-validate'` on the training traces alone.
 *
 * @example
 * ```ts
 * const traces = Array.from({ length: 10 }, () => Uint32Array.of(2, 1, 3, 1, 2, 1, 3, 1));
 * trainMarkov(traces, { orderSearch: { orders: [1, 2] } }).order; // 2
 * ```
 */
export function trainMarkov(
  traces: readonly Uint32Array[],
  options: MarkovTrainOptions = {},
): MarkovModel {
  const { order, orderSearch, ...rest } = options;
  if (typeof order === 'number') return MarkovModel.train(traces, { ...rest, order });
  const folds = orderSearch?.folds ?? DEFAULT_FOLDS;
  if (order === undefined && traces.length < folds) {
    return MarkovModel.train(traces, {
      ...rest,
      orderChosenBy: `fixed in advance: ${MARKOV_DEFAULT_ORDER} previous calls (fewer traces than CV folds)`,
    });
  }
  const choice = selectMarkovOrder(traces, orderSearch);
  return MarkovModel.train(traces, {
    ...rest,
    order: choice.order,
    orderChosenBy: choice.chosenBy,
  });
}
