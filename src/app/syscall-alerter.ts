import {
  PerProgramModel,
  STIDE_DEFAULT_N,
  type StoredModel,
  type TrainedModel,
} from '../detectors/index.js';
import type { GuestProcess, SyscallEvent } from '../events/index.js';
import { callLabel } from './argument-model.js';
import { RunningWindow, type RunningWindowOptions } from './running-window.js';

/** An online anomaly: the process, the calls that led to it, and how far over the line it was. */
export interface SyscallAlert {
  readonly type: 'alert';
  /**
   * `sequence`: the recent calls score above the model's threshold. `unknown-program`: a program
   * with no model of its own (never seen in training) made calls the fallback model calls
   * anomalous. `new-argument`: a program opened, executed or connected to something it never
   * did in training (`ModelMonitor`).
   */
  readonly reason: 'sequence' | 'unknown-program' | 'new-argument';
  readonly vm: string;
  readonly process: GuestProcess;
  /** The model that scored it: the program's own, or `fallback`. */
  readonly model: string;
  /**
   * The last calls, oldest first, ending with the one that alerted: decoded names, with the path
   * or address read from guest memory where the sensor read one (`openat(/etc/shadow)`).
   */
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
  /**
   * Anomalous windows a program's own model needs among the last `scoreSpan` calls before a
   * `sequence` alert. Default {@link OWN_MODEL_MIN_ANOMALOUS}.
   */
  readonly minAnomalous?: number;
  /** The same for programs scored by the fallback (`unknown-program`). Default 2. */
  readonly minAnomalousUnknown?: number;
  /** Processes followed at once; the least recently seen is forgotten first. Default 4,096. */
  readonly maxProcesses?: number;
  /**
   * Thresholds of the running mean by model name (a program, or `fallback`), calibrated for the
   * online statistic (`onlineThreshold`); a model without one here uses its stored threshold.
   */
  readonly thresholds?: ReadonlyMap<string, number>;
}

const EXEC_WARMUP_CALLS = 2;

/**
 * A task executed through /proc/self/exe (busybox runs its applets so) whose argv[0] could not be
 * read yet: its comm and program key are both "exe", which names no program (busybox alone runs
 * every applet so), so it raises no alert: it is judged once its name is read, a few calls on.
 */
function unresolved(process: GuestProcess): boolean {
  return process.comm === 'exe' && process.programKey === 'exe';
}

/**
 * Anomalous windows a known program's calls need in one span before they alert: more than any
 * single local change can make. One call inserted, dropped, or two calls swapped — a reply that
 * arrives in one `read` instead of two, a signal a little earlier — changes at most n + 1 windows
 * of an n-call model (7 for STIDE's default n = 6), and a program's runs vary so without being
 * attacked; calibration cannot see this when every held-back run happened to take the same path
 * (its threshold is then 0). Code injected into a known program makes calls of its own, which
 * changes far more windows than that.
 */
export const OWN_MODEL_MIN_ANOMALOUS = STIDE_DEFAULT_N + 2;

/**
 * A program never seen in training alerts on 2 anomalous windows: there is no normal to vary
 * from, and such processes (a dropper's `chmod`) may make only a few calls in all.
 */
const UNKNOWN_PROGRAM_MIN_ANOMALOUS = 2;

/** The running-window settings the alerter uses by default (and online calibration must match). */
export const SYSCALL_WINDOW: RunningWindowOptions = {
  windowLength: 12,
  scoreSpan: 32,
  quietTokens: 256,
  warmupTokens: 8,
  minAnomalous: OWN_MODEL_MIN_ANOMALOUS,
};

interface ProcessState {
  readonly window: RunningWindow;
  readonly modelName: string;
  readonly threshold: number | undefined;
  readonly unknownProgram: boolean;
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
  readonly #window: RunningWindowOptions;
  readonly #maxProcesses: number;
  readonly #thresholds: ReadonlyMap<string, number>;
  readonly #unknownPrograms: boolean;
  readonly #minAnomalousUnknown: number;
  readonly #processes = new Map<string, ProcessState>();
  /** Pids seen so far (bounded like the processes), to tell an observed execve from a join. */
  readonly #pids = new Set<number>();

  constructor(model: StoredModel, options: SyscallAlerterOptions = {}) {
    this.#model = model;
    this.#window = {
      windowLength: options.windowLength ?? SYSCALL_WINDOW.windowLength,
      scoreSpan: options.scoreSpan ?? SYSCALL_WINDOW.scoreSpan,
      quietTokens: options.quietCalls ?? SYSCALL_WINDOW.quietTokens,
      warmupTokens: options.warmupCalls ?? SYSCALL_WINDOW.warmupTokens,
      minAnomalous: options.minAnomalous ?? OWN_MODEL_MIN_ANOMALOUS,
    };
    this.#minAnomalousUnknown = options.minAnomalousUnknown ?? UNKNOWN_PROGRAM_MIN_ANOMALOUS;
    this.#thresholds = options.thresholds ?? new Map();
    this.#maxProcesses = options.maxProcesses ?? 4096;
    this.#unknownPrograms = options.unknownPrograms ?? true;
  }

  push(event: SyscallEvent): SyscallAlert | undefined {
    const process = event.process;
    if (process === undefined) return undefined;
    const state = this.#state(process);
    const { candidate, windowScore, mean } = state.window.push(event.nr, callLabel(event));
    if (!candidate) return undefined;
    if (unresolved(process)) return undefined;
    const unknown = this.#unknownPrograms && state.unknownProgram;
    if (!unknown && state.threshold !== undefined && mean <= state.threshold) return undefined;
    return {
      type: 'alert',
      reason: unknown ? 'unknown-program' : 'sequence',
      vm: event.vm,
      process,
      model: state.modelName,
      window: state.window.alerted(),
      score: mean,
      threshold: state.threshold,
      windowScore,
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
    // The warm-up is for processes joined mid-sequence. A pid already seen under another program
    // executed this one in view, so its calls are seen from the start: a short-lived unknown
    // program (a dropper's `chmod`, 8 calls) must not hide inside the warm-up. Two calls remain:
    // busybox re-executes itself as "exe" for a call or two before the applet's name shows.
    const execSeen = this.#pids.has(process.pid);
    if (!execSeen) {
      if (this.#pids.size >= this.#maxProcesses) this.#pids.clear();
      this.#pids.add(process.pid);
    }
    const fallback = name === 'fallback';
    const window = fallback
      ? {
          ...this.#window,
          minAnomalous: this.#minAnomalousUnknown,
          ...(execSeen
            ? { warmupTokens: Math.min(EXEC_WARMUP_CALLS, this.#window.warmupTokens) }
            : {}),
        }
      : this.#window;
    state = {
      window: new RunningWindow(model.openStream(), window),
      modelName: name,
      threshold: this.#thresholds.get(name) ?? model.threshold,
      unknownProgram: fallback,
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
