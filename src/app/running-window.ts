import type { WindowScorer } from '../detectors/index.js';

/** How a {@link RunningWindow} decides that an anomalous window is worth an alert. */
export interface RunningWindowOptions {
  /** Tokens shown in an alert. */
  readonly windowLength: number;
  /** Tokens over which the running score is averaged. */
  readonly scoreSpan: number;
  /** Tokens after an alert during which the same stream does not alert again. */
  readonly quietTokens: number;
  /** Tokens a stream takes in before it may alert (a stream joined mid-sequence looks new). */
  readonly warmupTokens: number;
  /**
   * Anomalous windows needed within the span (default 1). Hofmeyr, Forrest and Somayaji (1998)
   * count mismatches in a locality frame: one odd window is what two calls arriving in the other
   * order (a signal a little earlier) give; an intrusion gives a run of them.
   */
  readonly minAnomalous?: number;
}

/** What {@link RunningWindow.push} saw: the window, its score and the running mean. */
export interface RunningWindowResult {
  /** The window scored anomalous and the stream is past its warm-up and quiet period. */
  readonly candidate: boolean;
  readonly windowScore: number;
  /** Mean window score over the last `scoreSpan` tokens (the scale of a trace threshold). */
  readonly mean: number;
}

/**
 * One scored token stream (a process's system calls, or a VM's I/O tokens) with the state an
 * online alerter needs: the last tokens by name, the running mean of the window scores, the
 * warm-up and the quiet period after an alert. Memory is bounded by the two spans.
 */
export class RunningWindow {
  readonly #scorer: WindowScorer;
  readonly #options: RunningWindowOptions;
  readonly #names: string[] = [];
  readonly #scores: number[] = [];
  /** Whether each window in the span was anomalous, oldest first. */
  readonly #flags: boolean[] = [];
  #anomalous = 0;
  #sum = 0;
  #tokens = 0;
  #quietUntil = 0;

  constructor(scorer: WindowScorer, options: RunningWindowOptions) {
    this.#scorer = scorer;
    this.#options = options;
  }

  push(token: number, name: string): RunningWindowResult {
    const result = this.#scorer.push(token);
    this.#tokens += 1;
    this.#names.push(name);
    if (this.#names.length > this.#options.windowLength) this.#names.shift();
    this.#scores.push(result.score);
    this.#sum += result.score;
    if (this.#scores.length > this.#options.scoreSpan) this.#sum -= this.#scores.shift() ?? 0;
    this.#flags.push(result.anomalous);
    if (result.anomalous) this.#anomalous += 1;
    if (this.#flags.length > this.#options.scoreSpan && this.#flags.shift() === true) {
      this.#anomalous -= 1;
    }
    return {
      candidate:
        result.anomalous &&
        this.#anomalous >= (this.#options.minAnomalous ?? 1) &&
        this.#tokens > this.#options.warmupTokens &&
        this.#tokens >= this.#quietUntil,
      windowScore: result.score,
      mean: this.#sum / this.#scores.length,
    };
  }

  /** Starts the quiet period after an alert, and returns the window it names. */
  alerted(): string[] {
    this.#quietUntil = this.#tokens + this.#options.quietTokens;
    return [...this.#names];
  }
}
