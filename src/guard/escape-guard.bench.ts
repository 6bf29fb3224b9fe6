// Guard throughput and known-escape latency at 100, 1,000 and 10,000 VMs, with a stand-in engine
// whose cost grows with the window (the Markov engine is composed in src/app: `vmsight guard bench`).
import type { AnalysisEngine } from './analysis-engine.js';
import { runGuardBench } from './guard-bench-runner.js';
import { loadRecordedStreams } from './recorded-streams.js';
import { loadRules } from './rule-loader.js';

const busyEngine: AnalysisEngine = {
  analyse: (_vm, tokens) => {
    let x = 0;
    for (let r = 0; r < 50; r += 1) for (const token of tokens) x = (x * 31 + token) | 0;
    return Promise.resolve({ anomalous: false, score: x & 1 });
  },
};

const rules = await loadRules();
// Synthetic lab-shaped streams, then the lab guest's recorded ones (src/guard/fixtures).
const recorded = await loadRecordedStreams(64);
for (const streams of [undefined, recorded]) {
  for (const vms of [100, 1000, 10_000]) {
    const rounds = 12;
    for (const mode of ['guard', 'direct'] as const) {
      const f = await runGuardBench({
        vms,
        rounds,
        windowSize: 64,
        batchWindows: 64,
        rules,
        engine: busyEngine,
        mode,
        ...(streams === undefined ? {} : { streams }),
      });
      console.log(
        `${streams === undefined ? 'synthetic' : 'recorded '} ${mode.padEnd(6)} vms=${vms} windows=${f.windows} ${f.windowsPerSecond.toFixed(0)} windows/s engine_calls=${f.engineCalls} engine_ms=${f.engineBusyMs.toFixed(0)} ` +
          `cache=${(f.cacheShare * 100).toFixed(1)}% rules=${(f.ruleShare * 100).toFixed(1)}% shed=${f.shed} blocks=${f.blocks} ` +
          `escape_p50=${f.knownEscapeP50Ms.toFixed(2)}ms p99=${f.knownEscapeP99Ms.toFixed(2)}ms pause_p50=${f.pauseP50Ms.toFixed(2)}ms p99=${f.pauseP99Ms.toFixed(2)}ms rss=${f.rssMiB.toFixed(0)}MiB unaccounted=${f.unaccounted}`,
      );
    }
  }
}
