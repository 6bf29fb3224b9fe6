/**
 * A bounded least-recently-used map (Map keeps insertion order: re-inserting on a hit moves the
 * entry to the young end, and the oldest is the first key).
 */
export class VerdictCache<V> {
  readonly #map = new Map<string, V>();
  readonly capacity: number;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`Cache capacity must be a positive integer, not ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.capacity) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
      this.evictions += 1;
    }
  }
}
