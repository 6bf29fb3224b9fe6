/**
 * Training time and single-core scoring throughput of each detector on ADFA-LD (trained on the 833
 * training traces, scoring the 5,118 validation and attack traces, 2.44 million calls). Prints
 * figures only: benchmarks never pass or fail on the clock.
 *
 * It lives in `app` because it reads the dataset through the events importer, as `vmsight eval` does.
 *
 *   npm run bench -- detectors        (or: node --import tsx src/app/detectors.bench.ts)
 */
import {
  EnsembleModel,
  MarkovModel,
  StideModel,
  TStideModel,
  trainMarkov,
  type TrainedModel,
} from '../detectors/index.js';
import { adfaLdDataset } from '../events/internal.js';
import { loadTraces } from './trace-loading.js';

const dataset = adfaLdDataset();
if (dataset.skip !== false) {
  console.log(`${dataset.skip}: skipping`);
} else {
  const traces = await loadTraces('adfa', dataset.root);
  const data = {
    training: traces.filter((trace) => trace.label?.split === 'training').map((t) => t.calls),
    validation: traces.filter((trace) => trace.label?.split === 'validation').map((t) => t.calls),
    attack: traces.filter((trace) => trace.label?.kind === 'attack').map((t) => t.calls),
  };
  const scored = [...data.validation, ...data.attack];
  const calls = scored.reduce((sum, trace) => sum + trace.length, 0);
  const trainingCalls = data.training.reduce((sum, trace) => sum + trace.length, 0);
  console.log(
    `ADFA-LD: train ${data.training.length} traces (${trainingCalls} calls), score ${scored.length} traces (${calls} calls)`,
  );

  const timed = <T>(run: () => T): { value: T; ms: number } => {
    const started = performance.now();
    const value = run();
    return { value, ms: performance.now() - started };
  };

  const bench = (name: string, fit: () => TrainedModel): void => {
    const { value: model, ms: trainMs } = timed(fit);
    let best = Infinity;
    let checksum = 0;
    for (let round = 0; round < 3; round++) {
      const { ms } = timed(() => {
        for (const trace of scored) checksum += model.scoreTrace(trace).score;
      });
      best = Math.min(best, ms);
    }
    const { ms: streamMs } = timed(() => {
      for (const trace of scored) {
        const stream = model.openStream();
        for (const token of trace) checksum += stream.push(token).score;
      }
    });
    const rate = (ms: number): string => `${(((calls / ms) * 1000) / 1e6).toFixed(1)} M calls/s`;
    console.log(
      `${name.padEnd(34)} train ${trainMs.toFixed(0).padStart(6)} ms   scoreTrace ${rate(best)}   stream ${rate(streamMs)}   (checksum ${checksum.toFixed(2)})`,
    );
  };

  bench('stide n=6', () => StideModel.train(data.training));
  bench('t-stide n=6', () => TStideModel.train(data.training));
  bench('markov order 6', () => MarkovModel.train(data.training, { order: 6 }));
  bench('markov order by 5-fold CV', () => trainMarkov(data.training));
  bench('ensemble (stide, t-stide, markov)', () => EnsembleModel.train(data.training));
}
