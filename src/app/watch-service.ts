import { QmpClient } from '../connectors/index.js';
import { VmsightError, type Logger } from '../core/index.js';
import { readModelFile } from '../detectors/index.js';
import { writeVmtrace, type GuestEvent, type GuestProcess } from '../events/index.js';
import type { OverflowPolicy } from '../sensors/index.js';
import { BoundedEventQueue, type SensorStats } from '../sensors/index.js';
import { isModelDirectory, readModelDirectory, type ModelSet } from './model-directory.js';
import { ModelMonitor, type WatchAlert } from './model-monitor.js';
import { syscallTokenSpace } from './trace-loading.js';
import { resolveVm } from './vm-registry.js';
import { WatchGuard, type WatchGuardUpdate } from './watch-guard.js';
import {
  checkWatchPlan,
  openWatchSensor,
  watchSensorCapture,
  type WatchSensor,
  type WatchSensorKind,
} from './watch-sensor.js';

export interface WatchOptions {
  readonly vm: string;
  /**
   * The sensor (`watch-sensor.ts`): `tcg` (default; syscalls per process and I/O of a TCG VM
   * started with the sensor's probes), `kvm` (port I/O and MMIO of a KVM VM, no processes) or
   * `gdb` (syscalls per process through the VM's gdbstub; ~130-230 calls/s, short captures).
   */
  readonly sensor?: WatchSensorKind;
  /**
   * A model directory (`vmsight watch --learn`, `vmsight train --format vmtrace`: per-program
   * system-call models and the VM's I/O model), or a single system-call model file.
   */
  readonly model?: string;
  /** Record every event to this vmtrace file (`.zst` compresses), replayable with `score`. */
  readonly record?: string;
  /** Stop after this many seconds. Default: until `signal` aborts. */
  readonly durationSeconds?: number;
  /**
   * Also capture I/O trace events (port I/O, MMIO, virtio). Default true. The KVM sensor captures
   * only I/O (false is refused); the GDB sensor captures none (ignored).
   */
  readonly io?: boolean;
  /** Kernel image whose BTF gives the task_struct layout; lab VMs default to the lab's vmlinux. */
  readonly vmlinux?: string;
  /** TCG sensor: speed over exact names and arguments (see `WatchSensorRequest.fastCapture`). */
  readonly fastCapture?: boolean;
  /** `drop` keeps the guest at speed and counts losses; default `backpressure` loses nothing. */
  readonly policy?: OverflowPolicy;
  readonly statsIntervalMs?: number;
  /**
   * Run the VM-escape guard over the I/O events (needs `io`): a known escape pauses the VM with
   * QMP `stop`, is reported as an `escape` update and, when the evidence store exists, seized.
   * Default false (`vmsight watch` turns it on with I/O capture).
   */
  readonly guard?: boolean;
  /** Acquire evidence of a VM the guard paused, when the store's keys exist. Default true. */
  readonly seize?: boolean;
  /** The vmsight home of the evidence store (default `$VMSIGHT_HOME`, else `.vmsight`). */
  readonly home?: string;
  /** A guard rules directory instead of the built-in knowledge base. */
  readonly guardRules?: string;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
}

export interface ProcessActivity {
  readonly process: GuestProcess;
  readonly syscalls: number;
}

/** A periodic summary of the capture. */
export interface WatchStats {
  readonly type: 'stats';
  readonly vm: string;
  /** The sensor behind the figures (`--sensor`). */
  readonly sensorKind: WatchSensorKind;
  readonly elapsedSeconds: number;
  /** Events delivered per second over the last interval. */
  readonly eventsPerSecond: number;
  readonly sensor: SensorStats;
  /** Processes with the most syscalls in the last interval, most first (at most 5). */
  readonly topProcesses: readonly ProcessActivity[];
  /** Alerts raised so far (model alerts and escape verdicts). */
  readonly alerts: number;
  /** Set while the escape guard runs: whether a block seizes evidence, windows decided so far. */
  readonly guard?: { readonly seizing: boolean; readonly windows: number };
  readonly final: boolean;
}

export type WatchUpdate = WatchAlert | WatchStats | WatchGuardUpdate;

const MAX_TRACKED_PROCESSES = 4096;
const TOP_PROCESSES = 5;

/**
 * Watches a VM live through one sensor (`options.sensor`, `watch-sensor.ts`): system calls with
 * their process and/or I/O events, scored online when a model is given, recorded when asked.
 * Yields alerts as they happen and a stats summary every interval, then a final one. Stopping
 * (duration, abort, or the consumer leaving the loop) switches capture off in the hypervisor,
 * which restores the guest's speed.
 *
 * The TCG sensor needs a VM started with its `-dfilter` probes (`vmsight lab up --tcg-sensor`;
 * they are read back from QEMU's command line), the KVM sensor a KVM VM with a known QEMU pid,
 * the GDB sensor a VM whose memory holds a Linux kernel vmsight can profile (as for `vmsight ps`;
 * it opens a gdbstub through QMP unless the VM was registered with one).
 */
export async function* watchVm(options: WatchOptions): AsyncGenerator<WatchUpdate> {
  const kind = options.sensor ?? 'tcg';
  const io = watchSensorCapture(kind, options.io ?? true).io;
  // Checked before anything is connected: a bad combination costs nothing.
  const models = options.model === undefined ? undefined : await loadModelSet(options.model);
  checkWatchPlan(kind, {
    io: options.io ?? true,
    guard: options.guard === true,
    models,
    ...(options.model === undefined ? {} : { model: options.model }),
  });
  const vm = await resolveVm(options.vm);
  const qmp = await QmpClient.connect(
    vm.qmpSocket,
    options.log === undefined ? {} : { log: options.log },
  );
  let opened: WatchSensor;
  try {
    opened = await openWatchSensor({
      kind,
      vm,
      qmp,
      io,
      ...(options.vmlinux === undefined ? {} : { vmlinux: options.vmlinux }),
      ...(options.fastCapture === undefined ? {} : { fastCapture: options.fastCapture }),
      ...(options.policy === undefined ? {} : { policy: options.policy }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
  } catch (error) {
    await qmp.close();
    throw error;
  }
  const { sensor } = opened;
  const updates = new BoundedEventQueue<WatchUpdate>({ capacity: 1024 });
  const recorder =
    options.record === undefined
      ? undefined
      : new BoundedEventQueue<GuestEvent>({ capacity: 65_536 });
  const recording =
    recorder === undefined || options.record === undefined
      ? undefined
      : writeVmtrace(recorder, options.record, {
          generator: `vmsight watch (${kind} sensor)`,
          meta: { vm: vm.name },
        });
  const monitor = models === undefined ? undefined : new ModelMonitor(models);
  let alerts = 0;
  let guard: WatchGuard | undefined;
  try {
    guard =
      options.guard === true
        ? await WatchGuard.start({
            vm: vm.name,
            qmp,
            ...(vm.ramPath === undefined ? {} : { ramPath: vm.ramPath }),
            ...(options.guardRules === undefined ? {} : { rulesDir: options.guardRules }),
            ...(options.seize === undefined ? {} : { seize: options.seize }),
            ...(options.home === undefined ? {} : { home: options.home }),
            onUpdate: async (update) => {
              if (update.type === 'escape') alerts += 1;
              await updates.push(update);
            },
          })
        : undefined;
  } catch (error) {
    recorder?.close();
    await recording;
    await opened.release?.();
    await qmp.close();
    throw error;
  }
  const started = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  const activity = new Map<string, ProcessActivity>();
  let lastDelivered = 0;
  let lastTick = 0;
  const stats = (final: boolean): WatchStats => {
    const now = elapsed();
    const sensorStats = sensor.stats();
    const rate = (sensorStats.delivered - lastDelivered) / Math.max(now - lastTick, 1e-3);
    lastDelivered = sensorStats.delivered;
    lastTick = now;
    const top = [...activity.values()]
      .sort((a, b) => b.syscalls - a.syscalls)
      .slice(0, TOP_PROCESSES);
    activity.clear();
    return {
      type: 'stats',
      vm: vm.name,
      sensorKind: kind,
      elapsedSeconds: now,
      eventsPerSecond: rate,
      sensor: sensorStats,
      topProcesses: top,
      alerts,
      ...(guard === undefined ? {} : { guard: { seizing: guard.seizing, windows: guard.windows } }),
      final,
    };
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= sensor.stop();
    return stopping;
  };
  const onAbort = (): void => void stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timers: NodeJS.Timeout[] = [];
  const consume = (async () => {
    try {
      await sensor.start();
      if (options.signal?.aborted === true) void stop();
      if (options.durationSeconds !== undefined) {
        timers.push(setTimeout(() => void stop(), options.durationSeconds * 1000));
      }
      timers.push(
        setInterval(() => void updates.push(stats(false)), options.statsIntervalMs ?? 1000),
      );
      for await (const event of sensor.events()) {
        if (recorder !== undefined) await recorder.push(event);
        await guard?.push(event);
        // The monitor sees every event in capture order, as a replay of the recording does.
        const alert = monitor?.push(event);
        for (const raised of alert === undefined
          ? []
          : [alert, ...(monitor?.takeReleased() ?? [])]) {
          alerts += 1;
          await updates.push(raised);
        }
        if (event.type !== 'syscall' || event.process === undefined) continue;
        const key = `${event.process.pid}\u0000${event.process.programKey}`;
        const seen = activity.get(key);
        if (seen !== undefined)
          activity.set(key, { process: seen.process, syscalls: seen.syscalls + 1 });
        else if (activity.size < MAX_TRACKED_PROCESSES)
          activity.set(key, { process: event.process, syscalls: 1 });
      }
      await guard?.close();
      for (const alert of monitor?.flush() ?? []) {
        alerts += 1;
        await updates.push(alert);
      }
      await updates.push(stats(true));
      updates.close();
    } catch (error) {
      updates.close(error instanceof Error ? error : new VmsightError('INTERNAL', String(error)));
    }
  })();
  try {
    yield* updates;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    await stop();
    await consume;
    await guard?.close().catch(() => undefined);
    recorder?.close();
    await recording;
    // Before QMP closes: the GDB sensor's release closes the gdbstub through it.
    await opened.release?.();
    await qmp.close();
  }
}

/** A model directory, or a single system-call model file (applied without an I/O model). */
export async function loadModelSet(path: string): Promise<ModelSet> {
  if (await isModelDirectory(path)) return readModelDirectory(path);
  const { model, tokens } = await readModelFile(path);
  const expected = syscallTokenSpace('x86-64');
  if (tokens !== undefined && tokens !== expected) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot watch with model "${path}": it was trained on ${tokens} tokens, the TCG sensor gives ${expected}`,
    );
  }
  return { syscalls: model, io: undefined };
}
