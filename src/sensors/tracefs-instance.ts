import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  writeFileSync,
  type ReadStream,
} from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmsightError } from '../core/index.js';

/** Where the kernel's tracefs is mounted on Debian (and mounted by vmsight when it is not). */
export const TRACEFS_ROOT = '/sys/kernel/tracing';
/** What {@link TracefsInstance.release} writes to `trace_marker` to end a reader's pending read. */
export const RELEASE_MARKER = 'vmsight-release';

export interface TracefsInstanceOptions {
  /** Instance directory name under `instances/`; must not exist yet. */
  readonly name: string;
  /** `system:event` names to enable, for example `kvm:kvm_pio`. */
  readonly events: readonly string[];
  /** Only these threads' events reach the buffer (`set_event_pid`, filtered in the kernel). */
  readonly pids: readonly number[];
  /** Ring buffer size per CPU in KiB. Default: the kernel's default for new instances. */
  readonly bufferKb?: number;
  /** Follow threads the traced ones create (`options/event-fork`). Default true. */
  readonly followForks?: boolean;
  /** Tracefs mount point. Default {@link TRACEFS_ROOT}. */
  readonly root?: string;
}

/** Instances this process made and has not removed yet: removed on exit whatever happens. */
const live = new Set<string>();
let exitHookInstalled = false;

function removeOnExit(dir: string): void {
  // Synchronous on purpose: the `exit` event allows no asynchronous work. The marker comes first:
  // it completes a `trace_pipe` read still pending in libuv's thread pool, which would otherwise
  // keep the process from exiting at all (measured: an uncaught error then hung the process).
  for (const [file, text] of [
    ['trace_marker', `${RELEASE_MARKER}\n`],
    ['events/enable', '0'],
    ['tracing_on', '0'],
  ] as const) {
    try {
      writeFileSync(join(dir, file), text);
    } catch {
      // Best effort: the instance may be gone already.
    }
  }
  try {
    rmdirSync(dir);
  } catch {
    // Still open by this process: the watchdog removes it once the process is gone.
  }
}

/**
 * A detached shell that removes the instance once this process is gone, however it ends: the
 * `exit` hook cannot remove an instance whose `trace_pipe` a pending read still holds open (the
 * descriptor is closed only after the hooks ran), and SIGKILL runs no hook at all. `tail --pid`
 * waits for the process without busy polling. Killed by `remove()`.
 */
function startWatchdog(dir: string): ChildProcess | undefined {
  try {
    const child = spawn(
      'sh',
      [
        '-c',
        'tail --pid="$1" -s 0.2 -f /dev/null; echo 0 > "$2/events/enable"; echo 0 > "$2/tracing_on"; rmdir "$2"',
        'sh',
        String(process.pid),
        dir,
      ],
      { detached: true, stdio: 'ignore' },
    );
    child.on('error', () => undefined);
    child.unref();
    return child;
  } catch {
    return undefined; // the exit hook remains
  }
}

function ensureMounted(root: string): void {
  if (existsSync(join(root, 'instances'))) return;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', root], { stdio: 'ignore' });
  } catch (cause) {
    throw new VmsightError('DEPENDENCY_MISSING', `Cannot mount tracefs at ${root}`, { cause });
  }
}

/**
 * A tracefs instance of vmsight's own (`instances/NAME`, Documentation/trace/ftrace.rst
 * "Instances"): its own ring buffers, event switches and pid filter, so the global buffer and
 * other users' instances are left alone. Events are enabled only after the pid filter is in place,
 * so nothing from other processes ever enters the buffer. Removing the instance drops its events
 * with it; {@link remove} is called on every failure path, and on process exit as a last resort.
 *
 * @example
 * ```ts
 * import { TracefsInstance } from './tracefs-instance.js';
 * const instance = await TracefsInstance.create({ name: 'vmsight-1', events: ['kvm:kvm_pio'], pids: [4242] });
 * const pipe = instance.openPipe();
 * await instance.remove();
 * ```
 */
export class TracefsInstance {
  readonly dir: string;
  readonly #watchdog: ChildProcess | undefined;
  #pipe: ReadStream | undefined;
  #removed = false;

  private constructor(dir: string, watchdog: ChildProcess | undefined) {
    this.dir = dir;
    this.#watchdog = watchdog;
  }

  static async create(options: TracefsInstanceOptions): Promise<TracefsInstance> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(options.name) || options.name.startsWith('.')) {
      throw new VmsightError('INVALID_ARGUMENT', `Bad tracefs instance name "${options.name}"`);
    }
    if (options.pids.length === 0) {
      throw new VmsightError('INVALID_ARGUMENT', 'A tracefs instance needs at least one pid');
    }
    const root = options.root ?? TRACEFS_ROOT;
    ensureMounted(root);
    const dir = join(root, 'instances', options.name);
    try {
      await mkdir(dir);
    } catch (cause) {
      throw new VmsightError('IO_ERROR', `Cannot create tracefs instance ${dir}`, { cause });
    }
    live.add(dir);
    const watchdog = startWatchdog(dir);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const left of live) removeOnExit(left);
      });
    }
    const instance = new TracefsInstance(dir, watchdog);
    try {
      // A new instance starts with tracing on; nothing may be recorded before the filter is set.
      await instance.#write('tracing_on', '0');
      // "mono" is CLOCK_MONOTONIC, the clock of process.hrtime (ftrace.rst "trace_clock").
      await instance.#write('trace_clock', 'mono');
      if (options.bufferKb !== undefined) {
        await instance.#write('buffer_size_kb', String(Math.max(4, Math.floor(options.bufferKb))));
      }
      await instance.#write('options/event-fork', options.followForks === false ? '0' : '1');
      await instance.#write('set_event_pid', options.pids.join(' '));
      for (const event of options.events) {
        const [system, name] = event.split(':');
        if (system === undefined || name === undefined || !/^\w+$/.test(system + name)) {
          throw new VmsightError('INVALID_ARGUMENT', `Bad trace event name "${event}"`);
        }
        await instance.#write(`events/${system}/${name}/enable`, '1');
      }
      await instance.#write('tracing_on', '1');
    } catch (error) {
      await instance.remove().catch(() => undefined);
      throw error instanceof VmsightError
        ? error
        : new VmsightError('IO_ERROR', `Cannot set up tracefs instance ${dir}`, { cause: error });
    }
    return instance;
  }

  /** True when the instance directory exists (for tests and diagnostics). */
  static exists(name: string, root = TRACEFS_ROOT): boolean {
    return existsSync(join(root, 'instances', name));
  }

  /**
   * The instance's `trace_pipe` as a stream: a consuming read that blocks until events arrive, so
   * the reader never waits on the guest and the guest never waits on the reader.
   */
  openPipe(highWaterMark = 256 * 1024): ReadStream {
    this.#pipe ??= createReadStream(join(this.dir, 'trace_pipe'), { highWaterMark });
    return this.#pipe;
  }

  /** Switches every event of the instance off (nothing new is recorded; the buffer stays). */
  async disableEvents(): Promise<void> {
    await this.#write('events/enable', '0');
  }

  /** Writes a line to the instance's own `trace_marker`: it reaches the reader after earlier events. */
  async mark(text: string): Promise<void> {
    await this.#write('trace_marker', `${text}\n`);
  }

  /**
   * Events the ring buffer lost: `overrun` (overwritten before they were read) plus
   * `dropped events` (not written, buffer full in no-overwrite mode), summed over
   * `per_cpu/cpuN/stats`. Synchronous so a `stats()` call can report it.
   */
  lostEvents(): number {
    let lost = 0;
    let cpus: string[];
    try {
      cpus = readdirSync(join(this.dir, 'per_cpu'));
    } catch {
      return 0;
    }
    for (const cpu of cpus.slice(0, 4096)) {
      let text: string;
      try {
        text = readFileSync(join(this.dir, 'per_cpu', cpu, 'stats'), 'latin1');
      } catch {
        continue;
      }
      for (const match of text.matchAll(/^(?:overrun|dropped events): (\d+)$/gm)) {
        lost += Number(match[1]);
      }
    }
    return lost;
  }

  /**
   * Switches tracing off and removes the instance (its events go with it). A `trace_pipe` read
   * still pending keeps the file busy, so a marker line releases it first; retried for ~1 s.
   */
  async remove(): Promise<void> {
    if (this.#removed) return;
    if (this.#pipe !== undefined) {
      this.#pipe.destroy();
      await this.mark(RELEASE_MARKER).catch(() => undefined);
    }
    await this.#write('events/enable', '0').catch(() => undefined);
    await this.#write('tracing_on', '0').catch(() => undefined);
    let last: unknown;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      try {
        await rmdir(this.dir);
        this.#forget();
        return;
      } catch (error) {
        last = error;
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          this.#forget();
          return;
        }
        // Still busy: release a read that started after the first marker.
        if (this.#pipe !== undefined) {
          await this.#write('tracing_on', '1').catch(() => undefined);
          await this.mark(RELEASE_MARKER).catch(() => undefined);
          await this.#write('tracing_on', '0').catch(() => undefined);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    throw new VmsightError('IO_ERROR', `Cannot remove tracefs instance ${this.dir}`, {
      cause: last,
    });
  }

  #forget(): void {
    this.#removed = true;
    live.delete(this.dir);
    // Ours, by its pid: the instance is gone, the watchdog has nothing left to do.
    // Its own process group (detached): the shell and its `tail`.
    const pid = this.#watchdog?.pid;
    if (pid !== undefined && this.#watchdog?.exitCode === null) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }

  async #write(file: string, text: string): Promise<void> {
    await writeFile(join(this.dir, file), text);
  }
}
