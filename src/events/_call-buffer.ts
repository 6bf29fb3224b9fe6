/**
 * A growable `Uint32Array` of system-call numbers: amortised O(1) appends without a JS array of
 * boxed numbers per call (ADFA-LD alone is 2.7 M calls).
 */
export class CallBuffer {
  #calls: Uint32Array;
  #length = 0;

  constructor(initialCapacity = 256) {
    this.#calls = new Uint32Array(initialCapacity);
  }

  get length(): number {
    return this.#length;
  }

  push(nr: number): void {
    if (this.#length === this.#calls.length) {
      const grown = new Uint32Array(this.#calls.length * 2);
      grown.set(this.#calls);
      this.#calls = grown;
    }
    this.#calls[this.#length++] = nr;
  }

  /** A right-sized copy; the buffer is reset for reuse. */
  take(): Uint32Array {
    const out = this.#calls.slice(0, this.#length);
    this.#length = 0;
    return out;
  }
}
