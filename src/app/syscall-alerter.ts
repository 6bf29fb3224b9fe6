import {
  PerProgramModel,
  type StoredModel,
  type TrainedModel,
  type WindowScorer,
} from '../detectors/index.js';
import type { GuestProcess, SyscallEvent } from '../events/index.js';

/** An online anomaly: the process, the calls that led to it, and how far over the line it was. */
export interface SyscallAlert {
  readonly type: 'alert';
  /**
   * `sequence`: the recent calls score above the model's threshold. `unknown-program`: a program
   * with no model of its own (never seen in training) made calls the fallback model calls
   * anomalous.
   */
  readonly reason: 'sequence' | 'unknown-program';
  readonly vm: string;
  readonly process: GuestProcess;
  /** The model that scored it: the program's own, or `fallback`. */
  readonly model: string;
  /** Decoded names of the last calls, oldest first, ending with the one that alerted. */
  readonly window: readonly string[];
  /** Mean window score over the recent calls (the same scale as the model's trace threshold). */
  readonly score: number;
  readonly threshold: number | undefined;
  /** The anomalous window's own score. */
  readonly windowScore: number;
}

export interface SyscallAlerterOptions {
  /** Calls shown in an alert. Default 12. */
  readonly windowLength?: number;
  /** Calls over which the running score is averaged. Default 32. */
  readonly scoreSpan?: number;
  /** Calls after an alert during which the same process does not alert again. Default 256. */
  readonly quietCalls?: number;
  /**
   * Calls a process makes before it may alert. Default 8: a process already running when capture
   * starts is joined mid-sequence, and its first windows look new to any model.
   */
  readonly warmupCalls?: number;
  /**
   * Alert on anomalous windows of programs that have no model of their own in a per-program model,
   * whatever the fallback's threshold (a fallback calibrated on every program's traces is often
   * too loose to ever fire). Default true.
   */
  readonly unknownPrograms?: boolean;
  /** Processes followed at once; the least recently seen is forgotten first. Default 4,096. */
  readonly maxProcesses?: number;
}

interface ProcessState {
  readonly scorer: WindowScorer;
  readonly modelName: string;
  readonly threshold: number | undefined;
  readonly unknownProgram: boolean;
  readonly names: string[];
  readonly scores: number[];
  sum: number;
  quietUntil: number;
  calls: number;
}

/**
 * Scores live syscalls per process with a stored model (per program when it is a
 * `PerProgramModel`) and raises an alert when a window the detector calls anomalous arrives while
 * the running mean score of the process's recent calls is above the model's threshold (or, for a
 * model without a threshold, on the anomalous window alone). Memory is bounded by `maxProcesses`.
 *
 * @example
 * ```ts
 * import { SyscallAlerter } from './syscall-alerter.js';
 * declare const model: import('../detectors/index.js').StoredModel;
 * declare const event: import('../events/index.js').SyscallEvent;
 * const alerter = new SyscallAlerter(model);
 * const alert = alerter.push(event); // undefined, or a SyscallAlert
 * ```
 */
export class SyscallAlerter {
  readonly #model: StoredModel;
  readonly #windowLength: number;
  readonly #span: number;
  readonly #quiet: number;
  readonly #maxProcesses: number;
  readonly #warmup: number;
  readonly #unknownPrograms: boolean;
  readonly #processes = new Map<string, ProcessState>();

  constructor(model: StoredModel, options: SyscallAlerterOptions = {}) {
    this.#model = model;
    this.#windowLength = options.windowLength ?? 12;
    this.#span = options.scoreSpan ?? 32;
    this.#quiet = options.quietCalls ?? 256;
    this.#maxProcesses = options.maxProcesses ?? 4096;
    this.#warmup = options.warmupCalls ?? 8;
    this.#unknownPrograms = options.unknownPrograms ?? true;
  }

  push(event: SyscallEvent): SyscallAlert | undefined {
    const process = event.process;
    if (process === undefined) return undefined;
    const state = this.#state(process);
    const result = state.scorer.push(event.nr);
    state.calls += 1;
    state.names.push(event.name ?? `#${event.nr}`);
    if (state.names.length > this.#windowLength) state.names.shift();
    state.scores.push(result.score);
    state.sum += result.score;
    if (state.scores.length > this.#span) state.sum -= state.scores.shift() ?? 0;
    const mean = state.sum / state.scores.length;
    if (!result.anomalous || state.calls <= this.#warmup || state.calls < state.quietUntil) {
      return undefined;
    }
    const unknown = this.#unknownPrograms && state.unknownProgram;
    if (!unknown && state.threshold !== undefined && mean <= state.threshold) return undefined;
    state.quietUntil = state.calls + this.#quiet;
    return {
      type: 'alert',
      reason: unknown ? 'unknown-program' : 'sequence',
      vm: event.vm,
      process,
      model: state.modelName,
      window: [...state.names],
      score: mean,
      threshold: state.threshold,
      windowScore: result.score,
    };
  }

  #state(process: GuestProcess): ProcessState {
    // A pid is reused after exit and a task changes program on execve: key on both.
    const key = `${process.pid}\u0000${process.programKey}`;
    let state = this.#processes.get(key);
    if (state !== undefined) {
      this.#processes.delete(key);
      this.#processes.set(key, state);
      return state;
    }
    if (this.#processes.size >= this.#maxProcesses) {
      const oldest = this.#processes.keys().next();
      if (oldest.done !== true) this.#processes.delete(oldest.value);
    }
    const { model, name } = this.#modelFor(process.programKey);
    state = {
      scorer: model.openStream(),
      modelName: name,
      threshold: model.threshold,
      unknownProgram: name === 'fallback',
      names: [],
      scores: [],
      sum: 0,
      quietUntil: 0,
      calls: 0,
    };
    this.#processes.set(key, state);
    return state;
  }

  #modelFor(program: string): { model: TrainedModel; name: string } {
    const stored = this.#model;
    if (!(stored instanceof PerProgramModel)) return { model: stored, name: stored.kind };
    const own = stored.programs.includes(program);
    return { model: stored.modelFor(program), name: own ? program : 'fallback' };
  }
}
