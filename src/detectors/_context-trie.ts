/**
 * The shared structure of the n-gram detectors: a reversed context trie (each node is a context,
 * its children extend it by one older call) with an entry for every (context, next call) pair seen
 * in training. Lower-order entries carry Kneser–Ney continuation counts (the number of distinct
 * older calls that preceded the pair; Chen & Goodman 1998, section 3), which STIDE and t-STIDE
 * ignore and the Markov model needs.
 *
 * Scoring walks it as an automaton: the state is the longest training context that ends the
 * history, and each entry knows the state that follows it, so a call usually costs one lookup.
 */
import { PairTable, grow } from './_pair-table.js';
import { START_TOKEN, type NgramCounts } from './_ngram-counts.js';

/** Vocabulary id of the start padding. */
export const START_ID = 0;
/** Vocabulary id of every token never seen in training. */
export const UNKNOWN_ID = 1;
const ROOT = 0;

export class ContextTrie {
  /** Length of the n-grams the trie was built from (contexts hold up to n - 1 calls). */
  readonly n: number;
  /** Distinct ids, including the start and unknown ids. */
  readonly vocabularySize: number;
  /** Parent of each node: the same context without its oldest call. */
  readonly parent: Int32Array;
  /** Number of calls in each node's context. */
  readonly depth: Uint8Array;
  /** Count of each entry: raw at full depth, Kneser–Ney continuation count below. */
  readonly entryCount: Float64Array;
  /** State after each entry: the longest stored context that ends with the entry's n-gram. */
  readonly entryNext: Int32Array;
  /** The state of a fresh trace: the all-padding context. */
  readonly startState: number;
  /** Number of nodes, the root (empty context) included. */
  readonly nodeCount: number;
  readonly #vocabulary: PairTable;
  readonly #entries: PairTable;

  private constructor(
    n: number,
    vocabulary: PairTable,
    edges: PairTable,
    entries: PairTable,
    arrays: {
      parent: Int32Array;
      depth: Uint8Array;
      entryCount: Float64Array;
      entryNext: Int32Array;
    },
  ) {
    this.n = n;
    this.#vocabulary = vocabulary;
    this.#entries = entries;
    this.vocabularySize = vocabulary.size;
    this.nodeCount = edges.size + 1;
    this.parent = arrays.parent;
    this.depth = arrays.depth;
    this.entryCount = arrays.entryCount;
    this.entryNext = arrays.entryNext;
    let state = ROOT;
    for (let back = 1; back < n; back++) {
      const child = edges.find(state, START_ID);
      if (child < 0) break;
      state = child + 1;
    }
    this.startState = state;
  }

  /** Number of (context, call) entries over all orders. */
  get entryCountTotal(): number {
    return this.#entries.size;
  }

  /** Vocabulary id of a raw token ({@link UNKNOWN_ID} when training never saw it). */
  idOf(token: number): number {
    const id = this.#vocabulary.find(token, 0);
    return id < 0 ? UNKNOWN_ID : id;
  }

  /** Entry index of (state, id), or -1. */
  findEntry(state: number, id: number): number {
    return this.#entries.find(state, id);
  }

  /** Context node of the entry at `entry`. */
  entryState(entry: number): number {
    return this.#entries.keyA(entry);
  }

  /** Vocabulary id predicted by the entry at `entry`. */
  entryId(entry: number): number {
    return this.#entries.keyB(entry);
  }

  /** Builds the trie of a canonical n-gram table; the same table always gives the same trie. */
  static fromCounts(table: NgramCounts): ContextTrie {
    const { n, grams, counts } = table;
    const vocabulary = new PairTable(256);
    vocabulary.add(START_TOKEN, 0);
    // A key that no lookup of (token, 0) can produce reserves the unknown id.
    vocabulary.add(START_TOKEN, 1);
    const edges = new PairTable(counts.length);
    const entries = new PairTable(counts.length * 2);
    let parent = new Int32Array(counts.length + 1);
    let depth = new Uint8Array(counts.length + 1);
    let edgeId = new Uint32Array(counts.length + 1);
    let entryCount = new Float64Array(counts.length * 2);

    for (let gram = 0; gram < counts.length; gram++) {
      const base = gram * n;
      let node = ROOT;
      for (let back = 1; back < n; back++) {
        const id = vocabulary.add(grams[base + n - 1 - back] ?? 0, 0);
        const before = edges.size;
        const child = edges.add(node, id) + 1;
        if (edges.size !== before) {
          if (child >= parent.length) {
            parent = grow(parent);
            depth = grow(depth);
            edgeId = grow(edgeId);
          }
          parent[child] = node;
          depth[child] = back;
          edgeId[child] = id;
        }
        node = child;
      }
      const entry = entries.add(node, vocabulary.add(grams[base + n - 1] ?? 0, 0));
      if (entry >= entryCount.length) entryCount = grow(entryCount);
      entryCount[entry] = counts[gram] ?? 0;
    }

    // Continuation counts: every entry (older·h, w) adds one to (h, w). Entries appended by this
    // loop are lower-order ones and are visited in turn, so each entry contributes exactly once.
    for (let entry = 0; entry < entries.size; entry++) {
      const node = entries.keyA(entry);
      if (node === ROOT) continue;
      const lower = entries.add(parent[node] ?? ROOT, entries.keyB(entry));
      if (lower >= entryCount.length) entryCount = grow(entryCount);
      entryCount[lower] = (entryCount[lower] ?? 0) + 1;
    }

    const entryNext = new Int32Array(entries.size);
    const context = new Uint32Array(n);
    for (let entry = 0; entry < entries.size; entry++) {
      // Context of the entry, most recent call first (walking up yields the oldest first).
      let length = 0;
      for (let node = entries.keyA(entry); node !== ROOT; node = parent[node] ?? ROOT) {
        context[length++] = edgeId[node] ?? 0;
      }
      context.subarray(0, length).reverse();
      let state = ROOT;
      let next = edges.find(ROOT, entries.keyB(entry));
      for (let k = 0; next >= 0; k++) {
        state = next + 1;
        if (k >= length || (depth[state] ?? 0) >= n - 1) break;
        next = edges.find(state, context[k] ?? 0);
      }
      entryNext[entry] = state;
    }

    return new ContextTrie(n, vocabulary, edges, entries, {
      parent: parent.subarray(0, edges.size + 1),
      depth: depth.subarray(0, edges.size + 1),
      entryCount: entryCount.subarray(0, entries.size),
      entryNext,
    });
  }
}
