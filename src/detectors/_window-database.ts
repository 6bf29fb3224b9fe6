/**
 * The normal database shared by STIDE and t-STIDE: which windows of n calls training produced, and
 * how often. A window matches when its full n-gram was seen at least `minCount` times; STIDE uses
 * one, t-STIDE a count derived from its rarity threshold.
 */
import { ContextTrie } from './_context-trie.js';
import { assertToken, type NgramCounts } from './_ngram-counts.js';
import {
  ScoreAccumulator,
  type TraceScore,
  type WindowScore,
  type WindowScorer,
} from './detector.js';

export class WindowDatabase {
  readonly table: NgramCounts;
  readonly trie: ContextTrie;
  /** Sum of all n-gram counts: the number of windows training produced. */
  readonly totalWindows: number;
  readonly #minCount: number;

  constructor(table: NgramCounts, minCount: number) {
    this.table = table;
    this.trie = ContextTrie.fromCounts(table);
    let total = 0;
    for (const count of table.counts) total += count;
    this.totalWindows = total;
    this.#minCount = minCount;
  }

  get minCount(): number {
    return this.#minCount;
  }
}

/** Position of one trace in the database's automaton. */
export class WindowCursor {
  readonly #trie: ContextTrie;
  readonly #full: number;
  readonly #minCount: number;
  #state: number;

  constructor(database: WindowDatabase) {
    this.#trie = database.trie;
    this.#full = database.trie.n - 1;
    this.#minCount = database.minCount;
    this.#state = database.trie.startState;
  }

  /** Advances by one call; true when the window that ends here matches the database. */
  step(token: number): boolean {
    const trie = this.#trie;
    const id = trie.idOf(token);
    let state = this.#state;
    let entry = trie.findEntry(state, id);
    // Only a full-depth context holds raw window counts; a shorter state means the window's
    // first calls never occurred together in training.
    const match =
      entry >= 0 &&
      trie.depth[state] === this.#full &&
      (trie.entryCount[entry] ?? 0) >= this.#minCount;
    while (entry < 0 && state !== 0) {
      state = trie.parent[state] ?? 0;
      entry = trie.findEntry(state, id);
    }
    this.#state = entry >= 0 ? (trie.entryNext[entry] ?? 0) : 0;
    return match;
  }

  reset(): void {
    this.#state = this.#trie.startState;
  }
}

/** Scores traces against a database: window score 1 for a mismatch, 0 for a match. */
export function scoreAgainstDatabase(database: WindowDatabase, trace: Uint32Array): TraceScore {
  const cursor = new WindowCursor(database);
  const accumulator = new ScoreAccumulator();
  for (let i = 0; i < trace.length; i++) {
    const token = trace[i] ?? 0;
    assertToken(token, i);
    const mismatch = !cursor.step(token);
    accumulator.add(mismatch ? 1 : 0, mismatch);
  }
  return accumulator.summary();
}

/** The streaming form of {@link scoreAgainstDatabase}. */
export function openDatabaseStream(database: WindowDatabase): WindowScorer {
  const cursor = new WindowCursor(database);
  const accumulator = new ScoreAccumulator();
  let index = 0;
  return {
    push(token: number): WindowScore {
      assertToken(token, index);
      const mismatch = !cursor.step(token);
      accumulator.add(mismatch ? 1 : 0, mismatch);
      return { index: index++, score: mismatch ? 1 : 0, anomalous: mismatch };
    },
    summary: () => accumulator.summary(),
    reset(): void {
      cursor.reset();
      accumulator.reset();
      index = 0;
    },
  };
}
