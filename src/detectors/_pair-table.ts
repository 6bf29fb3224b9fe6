/**
 * An open-addressing hash table from a pair of unsigned 32-bit integers to a dense index
 * (0, 1, 2, … in insertion order). It is the one hash structure of the detectors: vocabulary
 * (token, 0), trie edges (node, token) and n-gram entries (node, token) all live in one, so the
 * scoring loops touch only typed arrays and never build a string key.
 */
const EMPTY = -1;
const MAX_LOAD = 0.5;

/** Murmur3's 32-bit finaliser over both halves: good avalanche at two multiplies per key. */
function hashPair(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class PairTable {
  #slots: Int32Array;
  #mask: number;
  #a: Uint32Array;
  #b: Uint32Array;
  #size = 0;

  constructor(expected = 16) {
    let capacity = 16;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.#slots = new Int32Array(capacity).fill(EMPTY);
    this.#mask = capacity - 1;
    this.#a = new Uint32Array(Math.max(8, expected));
    this.#b = new Uint32Array(Math.max(8, expected));
  }

  /** Number of distinct pairs stored; the next new pair gets this index. */
  get size(): number {
    return this.#size;
  }

  /** First member of the pair stored at `index`. */
  keyA(index: number): number {
    return this.#a[index] ?? 0;
  }

  /** Second member of the pair stored at `index`. */
  keyB(index: number): number {
    return this.#b[index] ?? 0;
  }

  /** Index of (a, b), or -1 when the pair is absent. */
  find(a: number, b: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    let slot = hashPair(a, b) & mask;
    for (;;) {
      const index = slots[slot] ?? EMPTY;
      if (index === EMPTY) return EMPTY;
      if (this.#a[index] === a && this.#b[index] === b) return index;
      slot = (slot + 1) & mask;
    }
  }

  /** Index of (a, b), adding the pair with the next free index when it is absent. */
  add(a: number, b: number): number {
    const found = this.find(a, b);
    if (found !== EMPTY) return found;
    if (this.#size + 1 > (this.#mask + 1) * MAX_LOAD) this.#rehash();
    if (this.#size === this.#a.length) {
      this.#a = grow(this.#a);
      this.#b = grow(this.#b);
    }
    const index = this.#size++;
    this.#a[index] = a;
    this.#b[index] = b;
    this.#place(index);
    return index;
  }

  #place(index: number): void {
    const slots = this.#slots;
    let slot = hashPair(this.#a[index] ?? 0, this.#b[index] ?? 0) & this.#mask;
    while (slots[slot] !== EMPTY) slot = (slot + 1) & this.#mask;
    slots[slot] = index;
  }

  #rehash(): void {
    const capacity = (this.#mask + 1) * 2;
    this.#slots = new Int32Array(capacity).fill(EMPTY);
    this.#mask = capacity - 1;
    for (let index = 0; index < this.#size; index++) this.#place(index);
  }
}

/** A copy of `array` with twice the length (contents kept, the rest zero). */
export function grow<T extends Uint32Array | Int32Array | Float64Array | Uint8Array>(
  array: T,
  minLength = array.length * 2,
): T {
  const Constructor = array.constructor as new (length: number) => T;
  const next = new Constructor(Math.max(minLength, array.length * 2, 8));
  next.set(array);
  return next;
}
