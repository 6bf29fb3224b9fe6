import { EscapeMatcher } from './escape-matcher.js';
import { IO_STRIDE } from './io-window.js';
import { ioTokens } from './io-token.js';
import type { MemoryProbe } from './memory-predicate.js';
import {
  WorkerFate,
  type Init,
  type ScanRequest,
  type ScanResult,
  type WindowResult,
} from './protocol.js';
import type { RuleHit } from './rule-hit.js';
import { VerdictCache } from './verdict-cache.js';

interface CachedRuleOutcome {
  readonly fate: WorkerFate;
  readonly verdict: WindowResult['verdict'];
  readonly hits: readonly RuleHit[];
}

/**
 * What the guard worker does with a batch, as a plain synchronous class (the worker entry only
 * forwards messages to it), so tests and the single-thread benchmark baseline can run it directly.
 *
 * Cache correctness: matching is deterministic in (per-VM rule state, normalised window), so an
 * outcome is cached under `state digest # window signature`, and only when the window left the
 * state unchanged and read no guest memory (so a hit needs no state replay).
 */
export class GuardCore {
  readonly matcher: EscapeMatcher;
  readonly cache: VerdictCache<CachedRuleOutcome | boolean>;
  #samples = new Map<string, Uint8Array>();
  #probeCalls = 0;

  constructor(init: Init, probe?: MemoryProbe) {
    const sampleProbe: MemoryProbe = (vm, address, length) => {
      this.#probeCalls += 1;
      const external = probe?.(vm, address, length);
      if (external !== undefined) return external;
      const bytes = this.#samples.get(`${vm}@${address}`);
      return bytes === undefined ? undefined : bytes.subarray(0, length);
    };
    this.matcher = new EscapeMatcher(init.rules, {
      bindings: init.bindings,
      mmioWindows: init.mmioWindows,
      probe: sampleProbe,
    });
    this.cache = new VerdictCache(init.cacheCapacity);
  }

  scan(request: ScanRequest): ScanResult {
    const started = performance.now();
    for (const learnt of request.learnt) this.cache.set(`e${learnt.signature}`, learnt.anomalous);
    this.#samples = new Map(
      request.memory.map((sample) => [`${sample.vm}@${sample.address}`, sample.bytes]),
    );
    const results: WindowResult[] = [];
    const unknown: { start: number; count: number }[] = [];
    let tokenCount = 0;
    for (const window of request.windows) {
      const io = request.io.subarray(
        window.start * IO_STRIDE,
        (window.start + window.count) * IO_STRIDE,
      );
      const times = request.times.subarray(window.start, window.start + window.count);
      const signature = this.signature(io);
      const before = this.matcher.stateDigest(window.vm);
      const ruleKey = `r${before}#${signature}`;
      const cached = this.cache.get(ruleKey);
      const base = { vm: window.vm, id: window.id, signature, tokenStart: -1 };
      const outcome =
        typeof cached === 'object'
          ? { ...cached, fate: WorkerFate.CACHE_RULE }
          : this.#match(window.vm, io, times, before, ruleKey);
      if (outcome.verdict !== 'unknown') {
        results.push({ ...base, ...outcome });
        continue;
      }
      // No rule decides: the engine's verdict learnt for this signature, or a window for the engine.
      const engine = this.cache.get(`e${signature}`);
      if (engine !== undefined) {
        results.push({
          ...base,
          fate: WorkerFate.CACHE_ENGINE,
          verdict: engine === true ? 'alert' : 'pass',
          hits: [],
        });
        continue;
      }
      results.push({
        ...base,
        fate: WorkerFate.UNKNOWN,
        verdict: 'unknown',
        hits: [],
        tokenStart: tokenCount,
      });
      unknown.push(window);
      tokenCount += window.count;
    }
    const tokens = new Uint32Array(tokenCount);
    let at = 0;
    for (const window of unknown) {
      ioTokens(request.io, window.start, window.count, tokens, at);
      at += window.count;
    }
    this.#samples = new Map();
    return {
      type: 'result',
      batch: request.batch,
      results,
      tokens,
      scanMicros: Math.round((performance.now() - started) * 1000),
    };
  }

  /** Normalised window signature: register, direction and width always; values only where a rule reads them. */
  signature(io: Float64Array): string {
    let a = 0x811c9dc5;
    let b = 0x01000193;
    const mix = (part: number): void => {
      a = Math.imul(a ^ part, 0x01000193);
      b = Math.imul(b ^ part, 0x5bd1e995) ^ (b >>> 13);
    };
    for (let at = 0; at < io.length; at += IO_STRIDE) {
      const kind = io[at] as number;
      const address = io[at + 1] as number;
      mix(kind);
      mix(address % 0x1_0000_0000);
      if (address >= 0x1_0000_0000) mix(Math.floor(address / 0x1_0000_0000));
      mix(this.matcher.valueMatters(kind, address) ? (io[at + 2] as number) : 0);
      mix(io[at + 3] as number);
    }
    return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}:${io.length / IO_STRIDE}`;
  }

  /** Runs the rules over a window, caching the outcome when replaying it could not differ. */
  #match(
    vm: string,
    io: Float64Array,
    times: BigInt64Array,
    stateBefore: string,
    ruleKey: string,
  ): CachedRuleOutcome {
    const probesBefore = this.#probeCalls;
    const hits = this.matcher.scan(vm, io, times);
    const outcome = this.#decide(io, hits);
    if (this.matcher.stateDigest(vm) === stateBefore && this.#probeCalls === probesBefore)
      this.cache.set(ruleKey, outcome);
    return outcome;
  }

  #decide(io: Float64Array, hits: readonly RuleHit[]): CachedRuleOutcome {
    if (hits.some((hit) => hit.action === 'block'))
      return { fate: WorkerFate.RULE_BLOCK, verdict: 'block', hits };
    if (hits.length > 0) return { fate: WorkerFate.RULE_ALERT, verdict: 'alert', hits };
    for (let at = 0; at < io.length; at += IO_STRIDE) {
      if (!this.matcher.isBenignKnown(io[at] as number, io[at + 1] as number))
        return { fate: WorkerFate.UNKNOWN, verdict: 'unknown', hits };
    }
    return { fate: WorkerFate.RULE_PASS, verdict: 'pass', hits };
  }
}
