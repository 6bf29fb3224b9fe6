/**
 * The typed message protocol between the guard's main thread and its worker (STYLE.md habit 14).
 * Every message that crosses the thread boundary is one of these; event windows travel as
 * transferred ArrayBuffers (see `transferListOf`), never as cloned objects.
 */
import type { EscapeRule } from './rule.js';
import type { RuleHit } from './rule-hit.js';

/** First message: the rules (already validated on the main thread) and the VM bindings. */
export interface Init {
  readonly type: 'init';
  readonly rules: readonly EscapeRule[];
  readonly bindings: Readonly<Record<string, number>>;
  readonly mmioWindows: readonly { readonly base: number; readonly size: number }[];
  readonly cacheCapacity: number;
  /** Live guest RAM files by VM (QEMU memory-backend-file), for memory predicates at a kick. */
  readonly memoryFiles?: Readonly<Record<string, string>>;
}

/** One VM's window inside a batch: accesses `[start, start + count)` of the batch arrays. */
export interface WindowRef {
  readonly vm: string;
  readonly id: number;
  readonly start: number;
  readonly count: number;
}

/** Guest memory read at a kick, so the worker can evaluate memory predicates without VMI. */
export interface MemorySample {
  readonly vm: string;
  readonly address: number;
  readonly bytes: Uint8Array;
}

/** Engine verdicts learnt since the last batch, to fill the worker's cache. */
export interface LearntVerdict {
  readonly signature: string;
  readonly anomalous: boolean;
}

export interface ScanRequest {
  readonly type: 'scan';
  readonly batch: number;
  readonly windows: readonly WindowRef[];
  /** IO_STRIDE float64 per access (io-window.ts), transferred. */
  readonly io: Float64Array;
  /** Nanoseconds since the epoch per access (-1 unknown), transferred. */
  readonly times: BigInt64Array;
  readonly memory: readonly MemorySample[];
  readonly learnt: readonly LearntVerdict[];
}

/** How a window was decided inside the worker. */
export const WorkerFate = {
  CACHE_RULE: 'cache-rule',
  CACHE_ENGINE: 'cache-engine',
  RULE_BLOCK: 'rule-block',
  RULE_ALERT: 'rule-alert',
  RULE_PASS: 'rule-pass',
  UNKNOWN: 'unknown',
} as const;
export type WorkerFate = (typeof WorkerFate)[keyof typeof WorkerFate];

/** A matcher hit as it crosses the thread boundary: plain data, so it clones as it is. */
export type WireHit = RuleHit;

export interface WindowResult {
  readonly vm: string;
  readonly id: number;
  readonly fate: WorkerFate;
  readonly verdict: 'block' | 'alert' | 'pass' | 'unknown';
  readonly hits: readonly WireHit[];
  readonly signature: string;
  /** For `unknown` windows: `[tokenStart, tokenStart + count)` of `tokens`. */
  readonly tokenStart: number;
}

export interface ScanResult {
  readonly type: 'result';
  readonly batch: number;
  readonly results: readonly WindowResult[];
  /** I/O tokens of the unknown windows for the analysis engine, transferred back. */
  readonly tokens: Uint32Array;
  readonly scanMicros: number;
}

export interface WorkerError {
  readonly type: 'error';
  readonly batch: number | null;
  readonly code: string;
  readonly message: string;
}

export type ToWorker = Init | ScanRequest;
export type FromWorker = ScanResult | WorkerError;

/** The buffers of a message that must be transferred rather than copied. */
export function transferListOf(message: ToWorker | FromWorker): ArrayBuffer[] {
  switch (message.type) {
    case 'scan':
      return [message.io.buffer as ArrayBuffer, message.times.buffer as ArrayBuffer];
    case 'result':
      return [message.tokens.buffer as ArrayBuffer];
    case 'init':
    case 'error':
      return [];
  }
}
