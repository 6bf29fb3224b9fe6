import { MarkovModel } from '../detectors/index.js';
import type { AnalysisEngine, EngineVerdict } from '../guard/index.js';

/**
 * The default analysis engine behind the guard: a Markov model over I/O tokens (guard `ioToken`),
 * trained on benign windows; a window whose mean surprisal exceeds the threshold is anomalous.
 * Counts its calls and CPU time, so a benchmark can report the engine's load.
 */
export class MarkovIoEngine implements AnalysisEngine {
  readonly #model: MarkovModel;
  readonly #threshold: number;
  calls = 0;
  tokens = 0;
  busyMs = 0;

  constructor(model: MarkovModel, threshold: number) {
    this.#model = model;
    this.#threshold = threshold;
  }

  /** Trains on benign token windows; the threshold is the highest training score plus a margin. */
  static train(
    windows: readonly Uint32Array[],
    options: { order?: number; margin?: number } = {},
  ): MarkovIoEngine {
    const model = MarkovModel.train(windows, { order: options.order ?? 3 });
    let worst = 0;
    for (const window of windows) worst = Math.max(worst, model.scoreTrace(window).score);
    return new MarkovIoEngine(model, worst + (options.margin ?? 1));
  }

  analyse(_vm: string, tokens: Uint32Array): Promise<EngineVerdict> {
    const started = performance.now();
    const score = tokens.length === 0 ? 0 : this.#model.scoreTrace(tokens).score;
    this.calls += 1;
    this.tokens += tokens.length;
    this.busyMs += performance.now() - started;
    return Promise.resolve({ anomalous: score > this.#threshold, score });
  }
}
