/**
 * Synthetic system-call traces for tests: a small "program" (start-up, a loop of read/write or
 * open/read/close iterations, exit) driven by a seeded PRNG, and a foreign block (socketcall,
 * dup2, execve: a reverse shell) to inject. Provenance: written for these tests, not captured.
 */

/** Mulberry32: a tiny seeded PRNG, so every test run sees the same traces. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const START_UP = [11, 45, 33, 192, 5, 197, 192, 6];
const READ_WRITE = [3, 4, 3, 4];
const OPEN_READ_CLOSE = [5, 3, 6];
const EXIT = [6, 252];
/** socketcall, dup2 ×3, execve: what a reverse shell adds to a hijacked process. */
export const FOREIGN_BLOCK = [102, 102, 63, 63, 63, 11, 122, 45];

export function normalTraces(count: number, seed = 1): Uint32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const calls = [...START_UP];
    const iterations = 2 + Math.floor(random() * 6);
    for (let i = 0; i < iterations; i++) {
      calls.push(...(random() < 0.7 ? READ_WRITE : OPEN_READ_CLOSE));
    }
    calls.push(...EXIT);
    return Uint32Array.from(calls);
  });
}

/** `trace` with {@link FOREIGN_BLOCK} inserted in its middle. */
export function withForeignBlock(trace: Uint32Array): Uint32Array {
  const middle = Math.floor(trace.length / 2);
  return Uint32Array.from([
    ...trace.subarray(0, middle),
    ...FOREIGN_BLOCK,
    ...trace.subarray(middle),
  ]);
}
