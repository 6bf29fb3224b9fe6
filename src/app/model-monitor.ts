import { PerProgramModel } from '../detectors/index.js';
import type { GuestEvent, GuestProcess, SyscallEvent } from '../events/index.js';
import { callLabel } from './argument-model.js';
import { MAX_IO_VOCABULARY, ioToken } from './io-tokens.js';
import type { ModelSet } from './model-directory.js';
import { RunningWindow, type RunningWindowOptions } from './running-window.js';
import { SyscallAlerter, type SyscallAlert } from './syscall-alerter.js';

/** An anomalous sequence in the VM's I/O (port I/O, MMIO, virtio) under the per-VM I/O model. */
export interface IoAlert {
  readonly type: 'alert';
  /**
   * `io-sequence`: the recent I/O scores above the threshold. `io-new-token`: a port, register
   * or queue (with direction and size) the VM never used in training.
   */
  readonly reason: 'io-sequence' | 'io-new-token';
  readonly vm: string;
  /**
   * The task that was running on the vCPU when the I/O happened (the last system call's process
   * on that vCPU): the process that caused it for I/O done in a system call, an innocent
   * bystander for interrupt-driven I/O. Absent before any attributed system call.
   */
  readonly process?: GuestProcess;
  readonly model: 'io';
  /** The last I/O tokens, oldest first, ending with the one that alerted. */
  readonly window: readonly string[];
  /** Mean window score over the recent tokens (the scale of the model's threshold). */
  readonly score: number;
  readonly threshold: number | undefined;
  readonly windowScore: number;
}

export type WatchAlert = SyscallAlert | IoAlert;

/** (process, argument) pairs already alerted on, so a loop over one new file alerts once. */
const MAX_ALERTED_ARGUMENTS = 4096;
/** Calls a held alert waits for its task's first execve (see `#hold`). */
const HOLD_CALLS = 16;
/** Alerts held per task at most (a task alerts at most once per quiet period anyway). */
const MAX_HELD_ALERTS = 16;
const MAX_TRACKED_TASKS = 65_536;
/** execve (59), execveat (322) and exit_group (231) on x86-64. */
const EXEC_CALLS = new Set([59, 322]);
const EXIT_GROUP = 231;
/** Most vCPUs whose current process is remembered for I/O attribution. */
const MAX_VCPUS = 1024;
/** I/O tokens a stream takes in before it may alert: capture joins the I/O mid-sequence. */
const IO_WARMUP_TOKENS = 16;
const IO_QUIET_TOKENS = 256;
const IO_WINDOW_TOKENS = 16;

/** The I/O stream's running-window settings (online calibration must use the same). */
export function ioWindow(traceLength: number): RunningWindowOptions {
  return {
    windowLength: IO_WINDOW_TOKENS,
    scoreSpan: traceLength,
    quietTokens: IO_QUIET_TOKENS,
    warmupTokens: IO_WARMUP_TOKENS,
  };
}

/**
 * Applies a model set to an event stream, in order: system calls per process against the
 * per-program models, I/O tokens of the VM against the I/O-sequence model. Live capture
 * (`vmsight watch`) and replay of its recording (`vmsight score --format vmtrace`) both push the
 * same events through one of these, so they raise the same alerts.
 */
export class ModelMonitor {
  /** Undefined for an I/O-only model set. */
  readonly #syscalls: SyscallAlerter | undefined;
  readonly #models: ModelSet;
  readonly #io: Map<string, RunningWindow> = new Map();
  readonly #current = new Map<string, GuestProcess>();
  readonly #ownModels: ReadonlySet<string>;
  readonly #alertedArguments = new Set<string>();
  readonly #alertedTokens = new Set<string>();
  readonly #held = new Map<string, { readonly alerts: SyscallAlert[]; calls: number }>();
  readonly #released: WatchAlert[] = [];
  /** Tasks (vm, pid) seen making an execve; their calls are their program's own. */
  readonly #execed = new Set<string>();

  constructor(models: ModelSet) {
    this.#models = models;
    this.#syscalls =
      models.syscalls === undefined
        ? undefined
        : new SyscallAlerter(
            models.syscalls,
            models.online === undefined ? {} : { thresholds: models.online.syscalls },
          );
    this.#ownModels = new Set(
      models.syscalls instanceof PerProgramModel ? models.syscalls.programs : [],
    );
  }

  push(event: GuestEvent): WatchAlert | undefined {
    if (event.type === 'syscall') {
      const key = `${event.vm}\u0000${String(event.vcpu)}`;
      // Re-inserted so the map's last entry is the most recent call's vCPU.
      if (
        event.process !== undefined &&
        (this.#current.delete(key) || this.#current.size < MAX_VCPUS)
      ) {
        this.#current.set(key, event.process);
      }
      return this.#hold(event, this.#syscalls?.push(event) ?? this.#argument(event));
    }
    const io = this.#models.io;
    const token = io === undefined ? undefined : ioToken(event);
    if (io === undefined || token === undefined) return undefined;
    let stream = this.#io.get(event.vm);
    if (stream === undefined) {
      stream = new RunningWindow(io.model.openStream(), ioWindow(io.traceLength));
      if (this.#io.size < MAX_VCPUS) this.#io.set(event.vm, stream);
    }
    const id = io.vocabulary.id(token);
    const { candidate, windowScore, mean } = stream.push(id, token);
    const threshold = this.#models.online?.io ?? io.model.threshold;
    const newToken = id === MAX_IO_VOCABULARY && !this.#alertedTokens.has(token);
    if (newToken) {
      if (this.#alertedTokens.size >= MAX_ALERTED_ARGUMENTS) this.#alertedTokens.clear();
      this.#alertedTokens.add(token);
    } else if (!candidate || (threshold !== undefined && mean <= threshold)) {
      return undefined;
    }
    const process = this.#processOf(event);
    return {
      type: 'alert',
      reason: newToken ? 'io-new-token' : 'io-sequence',
      vm: event.vm,
      ...(process === undefined ? {} : { process }),
      model: 'io',
      window: stream.alerted(),
      score: mean,
      threshold,
      windowScore,
    };
  }

  /**
   * A program with a model of its own opening, executing or connecting to something it never did
   * in training. Programs without one already alert as `unknown-program`.
   */
  #argument(event: SyscallEvent): SyscallAlert | undefined {
    const process = event.process;
    const model = this.#models.arguments;
    if (process === undefined || model === undefined || !this.#ownModels.has(process.programKey)) {
      return undefined;
    }
    const key = model.novel(process.programKey, event);
    if (key === undefined) return undefined;
    const seen = `${process.pid}\u0000${process.programKey}\u0000${key}`;
    if (this.#alertedArguments.has(seen)) return undefined;
    if (this.#alertedArguments.size >= MAX_ALERTED_ARGUMENTS) this.#alertedArguments.clear();
    this.#alertedArguments.add(seen);
    return {
      type: 'alert',
      reason: 'new-argument',
      vm: event.vm,
      process,
      model: process.programKey,
      window: [callLabel(event)],
      score: 1,
      threshold: undefined,
      windowScore: 1,
    };
  }

  /**
   * Holds a process's alert until it is clear the calls were its own. The sensor names a task
   * from guest memory when it parses the dump, a little after the call, so a freshly forked child
   * doing its parent's work (redirections, then execve) can already carry the name of the program
   * it is about to execute. Until a task has made an execve in the stream, its alert waits up to
   * `HOLD_CALLS` of its calls: its first execve drops it (the calls were the parent program's),
   * its exit or the end of the stream (`flush`) releases it.
   */
  #hold(event: SyscallEvent, alert: SyscallAlert | undefined): WatchAlert | undefined {
    const process = event.process;
    if (process === undefined) return alert;
    const key = `${event.vm}\u0000${process.pid}`;
    const exited = event.nr === EXIT_GROUP;
    if (this.#execed.has(key)) {
      if (exited) this.#execed.delete(key);
      return alert;
    }
    const held = this.#held.get(key);
    if (EXEC_CALLS.has(event.nr)) {
      this.#held.delete(key);
      if (this.#execed.size >= MAX_TRACKED_TASKS) this.#execed.clear();
      this.#execed.add(key);
      return undefined;
    }
    if (held === undefined) {
      if (alert !== undefined && this.#held.size < MAX_TRACKED_TASKS) {
        this.#held.set(key, { alerts: [alert], calls: 0 });
      }
      return undefined;
    }
    if (alert !== undefined && held.alerts.length < MAX_HELD_ALERTS) held.alerts.push(alert);
    held.calls += 1;
    if (!exited && held.calls < HOLD_CALLS) return undefined;
    this.#held.delete(key);
    // One alert is returned now; any others of the task are released with it, in order.
    const [first, ...rest] = held.alerts;
    this.#released.push(...rest);
    return first;
  }

  /** Alerts still held at the end of the stream, in the order they were raised. */
  flush(): WatchAlert[] {
    const alerts = [...this.#released, ...[...this.#held.values()].flatMap((held) => held.alerts)];
    this.#held.clear();
    this.#released.length = 0;
    return alerts;
  }

  /**
   * Alerts released together with the one the last `push` returned (a held task's later alerts);
   * callers take them right after that `push`.
   */
  takeReleased(): WatchAlert[] {
    return this.#released.splice(0);
  }

  #processOf(event: GuestEvent): GuestProcess | undefined {
    // QEMU's trace lines name the vCPU for memory-region accesses only; with one vCPU (or none
    // named) the last system call on any vCPU is the best guess.
    const exact = this.#current.get(`${event.vm}\u0000${String(event.vcpu)}`);
    if (exact !== undefined) return exact;
    let last: GuestProcess | undefined;
    for (const [key, process] of this.#current)
      if (key.startsWith(`${event.vm}\u0000`)) last = process;
    return last;
  }
}
