/**
 * Counting the n-grams of start-padded traces into one canonical, sorted table. Every n-gram model
 * (STIDE, t-STIDE, Markov) is built from this table, both after training and after loading a model
 * file, so a model and its deserialised copy are built by the same code from the same numbers and
 * score bit-identically.
 */
import { VmsightError } from '../core/index.js';
import { PairTable, grow } from './_pair-table.js';

/**
 * Padding before the first call of a trace, so that every call has a full window and the first
 * calls are scored in their start-of-trace context. Input tokens may not use this value.
 */
export const START_TOKEN = 0xffffffff;

/** Longest n-gram any detector accepts: contexts beyond this stop paying for their memory. */
export const MAX_NGRAM_LENGTH = 16;

export interface NgramCounts {
  /** Length of every n-gram. */
  readonly n: number;
  /** `n` tokens per n-gram, oldest first, n-grams in ascending lexicographic order. */
  readonly grams: Uint32Array;
  /** Occurrences of each n-gram (at least 1). */
  readonly counts: Uint32Array;
}

/** Throws unless `n` is an integer n-gram length the detectors support. */
export function assertNgramLength(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NGRAM_LENGTH) {
    throw new RangeError(`${what} must be an integer from 1 to ${MAX_NGRAM_LENGTH}, got ${n}`);
  }
}

/** Throws unless `token` can appear in a trace (a uint32 other than the padding value). */
export function assertToken(token: number, index: number): void {
  if (!Number.isInteger(token) || token < 0 || token >= START_TOKEN) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot score token ${token} at position ${index}: tokens are integers from 0 to ${START_TOKEN - 1}`,
    );
  }
}

/** Counts the start-padded n-grams of `traces`: one n-gram ends at every call of every trace. */
export function countNgrams(traces: readonly Uint32Array[], n: number): NgramCounts {
  assertNgramLength(n, 'N-gram length');
  // Contexts are counted in a reversed trie (most recent call first) so that each call costs
  // n - 1 lookups and no n-gram is ever copied into a key.
  const edges = new PairTable(1024);
  const entries = new PairTable(1024);
  let parent = new Int32Array(1024);
  let edgeToken = new Uint32Array(1024);
  let counts = new Uint32Array(1024);
  for (const trace of traces) {
    for (let i = 0; i < trace.length; i++) {
      const token = trace[i] ?? 0;
      assertToken(token, i);
      let node = 0;
      for (let back = 1; back < n; back++) {
        const previous = i - back >= 0 ? (trace[i - back] ?? 0) : START_TOKEN;
        const before = edges.size;
        const child = edges.add(node, previous) + 1;
        if (edges.size !== before) {
          if (child >= parent.length) {
            parent = grow(parent);
            edgeToken = grow(edgeToken);
          }
          parent[child] = node;
          edgeToken[child] = previous;
        }
        node = child;
      }
      const entry = entries.add(node, token);
      if (entry >= counts.length) counts = grow(counts);
      counts[entry] = (counts[entry] ?? 0) + 1;
    }
  }
  if (entries.size === 0) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot train a detector on ${traces.length} traces that hold no tokens`,
    );
  }
  return sortedTable(n, entries, parent, edgeToken, counts);
}

function sortedTable(
  n: number,
  entries: PairTable,
  parent: Int32Array,
  edgeToken: Uint32Array,
  counts: Uint32Array,
): NgramCounts {
  const size = entries.size;
  const unsorted = new Uint32Array(size * n);
  for (let entry = 0; entry < size; entry++) {
    const base = entry * n;
    unsorted[base + n - 1] = entries.keyB(entry);
    // The deepest edge of the reversed trie holds the oldest call, so walking up from the context
    // node yields the n-gram from its first token on.
    let node = entries.keyA(entry);
    for (let k = 0; k < n - 1; k++) {
      unsorted[base + k] = edgeToken[node] ?? 0;
      node = parent[node] ?? 0;
    }
  }
  const order = Array.from({ length: size }, (_, i) => i);
  order.sort((x, y) => {
    for (let k = 0; k < n; k++) {
      const difference = (unsorted[x * n + k] ?? 0) - (unsorted[y * n + k] ?? 0);
      if (difference !== 0) return difference;
    }
    return 0;
  });
  const grams = new Uint32Array(size * n);
  const sortedCounts = new Uint32Array(size);
  order.forEach((entry, rank) => {
    grams.set(unsorted.subarray(entry * n, entry * n + n), rank * n);
    sortedCounts[rank] = counts[entry] ?? 0;
  });
  return { n, grams, counts: sortedCounts };
}
