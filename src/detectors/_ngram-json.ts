/**
 * The n-gram table in a model file, and its validation. Loading insists on the canonical form
 * `countNgrams` writes (strictly ascending n-grams, padding only at the start, counts of at least
 * one): the trie builder relies on it, and a table that is not canonical was not written by us.
 */
import { MAX_NGRAM_LENGTH, START_TOKEN, type NgramCounts } from './_ngram-counts.js';
import {
  encodeUint32,
  field,
  invalid,
  readInteger,
  readObject,
  readUint32Array,
} from './_model-json.js';

/** Default cap on stored n-grams when loading (ADFA-LD's 308k training calls give ~60k). */
export const DEFAULT_MAX_NGRAMS = 20_000_000;

export interface NgramTableJson {
  readonly n: number;
  readonly grams: string;
  readonly counts: string;
}

export function ngramTableToJson(table: NgramCounts): NgramTableJson {
  return { n: table.n, grams: encodeUint32(table.grams), counts: encodeUint32(table.counts) };
}

export function readNgramTable(value: unknown, path: string, maxNgrams: number): NgramCounts {
  const object = readObject(value, path);
  const n = readInteger(field(object, 'n'), `${path}.n`, { min: 1, max: MAX_NGRAM_LENGTH });
  const counts = readUint32Array(field(object, 'counts'), `${path}.counts`, maxNgrams);
  const grams = readUint32Array(field(object, 'grams'), `${path}.grams`, maxNgrams * n);
  if (grams.length !== counts.length * n) {
    throw invalid(`${path}.grams`, `must hold ${counts.length} n-grams of ${n} tokens`);
  }
  for (let gram = 0; gram < counts.length; gram++) {
    if (counts[gram] === 0) throw invalid(`${path}.counts`, `has a zero count at ${gram}`);
    const base = gram * n;
    let padded = true;
    for (let k = 0; k < n; k++) {
      const isStart = grams[base + k] === START_TOKEN;
      if (isStart && (!padded || k === n - 1)) {
        throw invalid(`${path}.grams`, `has start padding inside n-gram ${gram}`);
      }
      padded = isStart;
    }
    if (gram > 0 && compareGrams(grams, n, gram - 1, gram) >= 0) {
      throw invalid(`${path}.grams`, `is not in strictly ascending order at n-gram ${gram}`);
    }
  }
  return { n, grams, counts };
}

function compareGrams(grams: Uint32Array, n: number, a: number, b: number): number {
  for (let k = 0; k < n; k++) {
    const difference = (grams[a * n + k] ?? 0) - (grams[b * n + k] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
