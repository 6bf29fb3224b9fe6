import type { AnalysisEngine } from './analysis-engine.js';
import { EscapeGuard } from './escape-guard.js';
import { ioTokens } from './io-token.js';
import type { EscapeRule } from './rule.js';
import { recordedBatch, type RecordedStreams } from './recorded-streams.js';
import { rng, syntheticBatch } from './synthetic-streams.js';

export interface GuardBenchOptions {
  readonly vms: number;
  readonly rounds: number;
  readonly windowSize: number;
  readonly batchWindows: number;
  readonly rules: readonly EscapeRule[];
  readonly engine: AnalysisEngine;
  /** `guard`: through the guard; `direct`: every window straight to the engine (the baseline). */
  readonly mode: 'guard' | 'direct';
  /** Replay these recorded streams instead of synthetic lab-shaped ones (windowSize is theirs). */
  readonly streams?: RecordedStreams;
  /** Batches posted to the worker before waiting for the oldest (default 1). */
  readonly inFlight?: number;
}

export interface GuardBenchFigures {
  readonly mode: 'guard' | 'direct';
  readonly vms: number;
  readonly windows: number;
  readonly seconds: number;
  readonly windowsPerSecond: number;
  readonly engineCalls: number;
  /** CPU time inside the engine's analyse calls (their synchronous part). */
  readonly engineBusyMs: number;
  readonly cacheShare: number;
  readonly ruleShare: number;
  readonly shed: number;
  readonly blocks: number;
  readonly knownEscapeP50Ms: number;
  readonly knownEscapeP99Ms: number;
  /**
   * From posting the batch to the guard calling the VM controller's `pause` for the escape: how
   * long a VM runs on after its triggering window reached the guard. The batch's verdicts
   * (above) also wait for the engine's work on the batch's unknown windows; the pause does not.
   */
  readonly pauseP50Ms: number;
  readonly pauseP99Ms: number;
  readonly rssMiB: number;
  readonly heapMiB: number;
  readonly unaccounted: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Replays synthetic lab-shaped streams (or recorded ones) as `vms` concurrent VMs for `rounds` rounds and reports
 * figures. Known-escape latency is from posting the batch holding the escape's triggering window to
 * that window's `block` verdict (batching delay included), and to the guard's `pause` of that VM.
 * Never asserts on time.
 */
export async function runGuardBench(options: GuardBenchOptions): Promise<GuardBenchFigures> {
  const random = rng(7);
  let engineCalls = 0;
  let engineBusyMs = 0;
  const counted: AnalysisEngine = {
    analyse: (vm, tokens) => {
      engineCalls += 1;
      // The synchronous part of the call: all of it for in-process engines like the Markov one.
      const begun = performance.now();
      const verdict = options.engine.analyse(vm, tokens);
      engineBusyMs += performance.now() - begun;
      return verdict;
    },
  };
  /** When the batch holding each VM's latest window was posted. */
  const postedAt = new Map<string, number>();
  const pauseLatencies: number[] = [];
  const guard =
    options.mode === 'guard'
      ? EscapeGuard.start({
          rules: options.rules,
          engine: counted,
          controller: {
            pause: (vm) => {
              const posted = postedAt.get(vm);
              if (posted !== undefined) pauseLatencies.push(performance.now() - posted);
              return Promise.resolve();
            },
          },
          queueCapacity: 4096,
          engineConcurrency: 8,
        })
      : undefined;
  const latencies: number[] = [];
  let windows = 0;
  let blocks = 0;
  const started = performance.now();
  try {
    // Up to `inFlight` batches are posted before the oldest is awaited, as a sensor feeding the
    // guard would; latency is from posting a batch to its verdicts.
    const inFlight: Promise<void>[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      for (let first = 0; first < options.vms; first += options.batchWindows) {
        const count = Math.min(options.batchWindows, options.vms - first);
        const batch =
          options.streams === undefined
            ? syntheticBatch(first, count, options.windowSize, round, random)
            : recordedBatch(options.streams, first, count, round);
        windows += count;
        const posted = performance.now();
        if (guard !== undefined) {
          for (const ref of batch.refs) postedAt.set(ref.vm, posted);
          inFlight.push(
            guard.scanEncoded(batch.refs, batch.io, batch.times).then((verdicts) => {
              const elapsed = performance.now() - posted;
              for (const verdict of verdicts) {
                if (verdict.verdict === 'block') {
                  blocks += 1;
                  latencies.push(elapsed);
                }
              }
            }),
          );
          if (inFlight.length >= (options.inFlight ?? 1)) await inFlight.shift();
        } else {
          await Promise.all(
            batch.refs.map((ref) =>
              counted.analyse(ref.vm, ioTokens(batch.io, ref.start, ref.count)),
            ),
          );
        }
      }
    }
    await Promise.all(inFlight);
  } finally {
    await guard?.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const memory = process.memoryUsage();
  const c = guard?.counters;
  const accounted =
    c === undefined
      ? windows
      : c.cacheHits +
        c.ruleBlock +
        c.ruleAlert +
        c.rulePass +
        c.engineAnomalous +
        c.engineNormal +
        Object.values(c.shed).reduce((a, b) => a + b, 0);
  return {
    mode: options.mode,
    vms: options.vms,
    windows,
    seconds,
    windowsPerSecond: windows / seconds,
    engineCalls,
    engineBusyMs,
    cacheShare: c === undefined ? 0 : c.cacheHits / windows,
    ruleShare: c === undefined ? 0 : (c.ruleBlock + c.ruleAlert + c.rulePass) / windows,
    shed: c === undefined ? 0 : Object.values(c.shed).reduce((a, b) => a + b, 0),
    blocks,
    knownEscapeP50Ms: percentile(latencies, 50),
    knownEscapeP99Ms: percentile(latencies, 99),
    pauseP50Ms: percentile(pauseLatencies, 50),
    pauseP99Ms: percentile(pauseLatencies, 99),
    rssMiB: memory.rss / 2 ** 20,
    heapMiB: memory.heapUsed / 2 ** 20,
    unaccounted: windows - accounted,
  };
}
