/**
 * Interpolated modified Kneser–Ney smoothing (Chen and Goodman, "An Empirical Study of Smoothing
 * Techniques for Language Modeling", Harvard TR-10-98, 1998, section 3), compiled into back-off
 * form so scoring needs no recursion: for a (context, call) entry the stored probability is the
 * full interpolated one, and a call the context never saw is scored as
 * gamma(context) × P(call | shorter context), which is exactly the interpolated formula with a
 * zero count.
 */
import type { ContextTrie } from './_context-trie.js';

export interface KneserNeyTables {
  /** ln P(call | context) for every trie entry. */
  readonly entryLogProbability: Float64Array;
  /** ln gamma(context) for every trie node: the mass the context leaves to shorter contexts. */
  readonly backoffLog: Float64Array;
  /** ln P(call) of a call training never saw, at the empty context. */
  readonly unknownLogProbability: number;
  /** Discounts D1, D2, D3+ per context length (3 values per length, shortest first). */
  readonly discounts: Float64Array;
}

/**
 * Estimates the tables from the trie's counts (raw at full depth, continuation counts below).
 * Discounts use the closed-form estimates of Chen and Goodman (their equation 26) per order,
 * clamped so that every discount stays below the count it discounts.
 */
export function estimateKneserNey(trie: ContextTrie): KneserNeyTables {
  const entries = trie.entryCountTotal;
  const { n, depth, parent, entryCount } = trie;
  const countOfCounts = new Float64Array(n * 5);
  for (let entry = 0; entry < entries; entry++) {
    const count = entryCount[entry] ?? 0;
    if (count <= 4) {
      const d = depth[trie.entryState(entry)] ?? 0;
      countOfCounts[d * 5 + count] = (countOfCounts[d * 5 + count] ?? 0) + 1;
    }
  }
  const discounts = new Float64Array(n * 3);
  for (let d = 0; d < n; d++) {
    const [n1, n2, n3, n4] = [1, 2, 3, 4].map((c) => countOfCounts[d * 5 + c] ?? 0) as [
      number,
      number,
      number,
      number,
    ];
    const y = n1 + 2 * n2 > 0 ? n1 / (n1 + 2 * n2) : 0.5;
    discounts[d * 3] = clamp(n1 > 0 ? 1 - (2 * y * n2) / n1 : 0.5, 0.05, 0.95);
    discounts[d * 3 + 1] = clamp(n2 > 0 ? 2 - (3 * y * n3) / n2 : 1, 0.05, 1.95);
    discounts[d * 3 + 2] = clamp(n3 > 0 ? 3 - (4 * y * n4) / n3 : 1.5, 0.05, 2.95);
  }

  const nodes = trie.nodeCount;
  const total = new Float64Array(nodes);
  const discounted = new Float64Array(nodes);
  for (let entry = 0; entry < entries; entry++) {
    const node = trie.entryState(entry);
    const count = entryCount[entry] ?? 0;
    total[node] = (total[node] ?? 0) + count;
    discounted[node] = (discounted[node] ?? 0) + discountFor(discounts, depth[node] ?? 0, count);
  }
  const gamma = new Float64Array(nodes);
  const backoffLog = new Float64Array(nodes);
  for (let node = 0; node < nodes; node++) {
    const sum = total[node] ?? 0;
    gamma[node] = sum > 0 ? (discounted[node] ?? 0) / sum : 1;
    backoffLog[node] = Math.log(gamma[node] ?? 1);
  }

  // Calls a model can predict: the whole vocabulary except the start padding (unknown included).
  const predictable = Math.max(1, trie.vocabularySize - 1);
  const probability = new Float64Array(entries);
  for (const entry of entriesByDepth(trie)) {
    const node = trie.entryState(entry);
    const id = trie.entryId(entry);
    const lower =
      node === 0
        ? 1 / predictable
        : (probability[trie.findEntry(parent[node] ?? 0, id)] ?? 1 / predictable);
    const count = entryCount[entry] ?? 0;
    probability[entry] =
      (count - discountFor(discounts, depth[node] ?? 0, count)) / (total[node] ?? 1) +
      (gamma[node] ?? 0) * lower;
  }
  const entryLogProbability = probability.map(Math.log);
  const unknownLogProbability = Math.log((gamma[0] ?? 1) / predictable);
  return { entryLogProbability, backoffLog, unknownLogProbability, discounts };
}

function discountFor(discounts: Float64Array, depth: number, count: number): number {
  if (count <= 0) return 0;
  return discounts[depth * 3 + Math.min(count, 3) - 1] ?? 0;
}

function clamp(value: number, low: number, high: number): number {
  return Number.isFinite(value) ? Math.min(high, Math.max(low, value)) : (low + high) / 2;
}

/** Entry indices ordered by context length, so each lower-order probability exists before use. */
function entriesByDepth(trie: ContextTrie): Uint32Array {
  const entries = trie.entryCountTotal;
  const starts = new Uint32Array(trie.n + 1);
  for (let entry = 0; entry < entries; entry++) {
    const d = trie.depth[trie.entryState(entry)] ?? 0;
    starts[d + 1] = (starts[d + 1] ?? 0) + 1;
  }
  for (let d = 1; d <= trie.n; d++) starts[d] = (starts[d] ?? 0) + (starts[d - 1] ?? 0);
  const order = new Uint32Array(entries);
  for (let entry = 0; entry < entries; entry++) {
    const d = trie.depth[trie.entryState(entry)] ?? 0;
    order[starts[d] ?? 0] = entry;
    starts[d] = (starts[d] ?? 0) + 1;
  }
  return order;
}
