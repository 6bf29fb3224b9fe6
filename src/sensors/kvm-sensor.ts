import { readdir } from 'node:fs/promises';
import { VmsightError, splitLineBatches, type Logger } from '../core/index.js';
import type { GuestEvent, GuestProcess } from '../events/index.js';
import { BoundedEventQueue } from './bounded-event-queue.js';
import { kvmMmioToEvent, kvmPioToEvent } from './kvm-pio-parser.js';
import { KVM_TRACE_EVENTS, parseKvmTraceLine, type KvmTraceRecord } from './kvm-trace-parser.js';
import { OverflowPolicy, type Sensor, type SensorStats } from './sensor.js';
import { TracefsInstance } from './tracefs-instance.js';

/** The QMP call the sensor uses to map vCPU threads to vCPU indexes (tests may pass a fake). */
export interface VcpuThreadSource {
  execute(command: string, args?: object): Promise<unknown>;
}

export interface KvmSensorOptions {
  /** VM id put on every event. */
  readonly vm: string;
  /** The QEMU process (`-accel kvm`). */
  readonly qemuPid: number;
  /**
   * QMP, to learn which host thread runs which vCPU (`query-cpus-fast` → `thread-id`). Without
   * it every QEMU thread is traced and events carry `vcpu: null`.
   */
  readonly monitor?: VcpuThreadSource;
  /** Tracefs instance name. Default `vmsight-kvm-<our pid>-<qemu pid>`. */
  readonly instanceName?: string;
  /** Ring buffer per host CPU in KiB. Default 4096 (~100 k kvm_pio records per CPU). */
  readonly bufferKb?: number;
  /**
   * `backpressure` (default) stops reading while the queue is full; the guest still never waits
   * (the kernel cannot block a vCPU on a trace buffer), so what does not fit is overwritten in
   * the ring buffer and counted in `dropped`. `drop` discards at the queue instead.
   */
  readonly policy?: OverflowPolicy;
  /** Queue capacity in events. Default 65,536. */
  readonly capacity?: number;
  /** Time `stop()` waits for the reader to reach the end marker. Default 5 s. */
  readonly stopTimeoutMs?: number;
  readonly log?: Logger;
}

/** {@link SensorStats} plus what only the KVM sensor knows. */
export interface KvmSensorStats extends SensorStats {
  /** Events the kernel's ring buffer overwrote or refused (also included in `dropped`). */
  readonly ringLost: number;
  /** `kvm_exit` count per exit reason (VMX/SVM name as the kernel prints it). */
  readonly exits: Readonly<Record<string, number>>;
  /** MMIO reads that left for QEMU (`unsatisfied-read`); each is delivered once, with its value. */
  readonly mmioUserspaceReads: number;
}

/** Repeat counts of a `rep ins/outs` beyond this are cut (the kernel bounds them by a page). */
const MAX_REPEAT = 4096;
/** Longest trace_pipe line accepted; KVM's lines are under 250 bytes. */
const MAX_LINE_BYTES = 4096;
/** Distinct exit reasons kept; more would be a kernel printing garbage. */
const MAX_EXIT_REASONS = 256;
const STOP_MARKER = 'vmsight-kvm-sensor-stop';
/** `trace_marker` text before `<vcpu> <id>`: from here on, `id`'s task runs on `vcpu`. */
const TASK_MARKER = 'vmsight-kvm-task';
const TASK_MARKER_LINE = / tracing_mark_write: vmsight-kvm-task (\d{1,4}) (\d{1,15})$/;
/** Task markers written but not read back yet (the reader is at most a ring buffer behind). */
const MAX_PENDING_TASKS = 65_536;
/** Numbers the sensors of this process, so each gets an instance name of its own. */
let nextSerial = 0;

/**
 * The KVM sensor: the host kernel's `kvm:kvm_pio`, `kvm:kvm_mmio` and `kvm:kvm_exit` tracepoints in
 * a tracefs instance of vmsight's own, filtered in the kernel to the VM's vCPU threads
 * (`set_event_pid`) and streamed from the instance's `trace_pipe`. The tracepoints fire in the
 * vCPU thread on its way through KVM, so the guest never waits for vmsight; what a slow reader
 * misses is counted from the ring buffer's own `overrun` statistics, never silently lost.
 * Port I/O and MMIO become `port-io` / `mmio` events with the vCPU and host time; exits are
 * counted per reason in {@link stats}. No process attribution (pair it with `GdbSensor`).
 *
 * @example
 * ```ts
 * import { KvmSensor } from './kvm-sensor.js';
 * const sensor = new KvmSensor({ vm: 'vm1', qemuPid: 4242 });
 * await sensor.start();
 * for await (const event of sensor.events()) { console.log(event.type); break; }
 * await sensor.stop();
 * ```
 */
export class KvmSensor implements Sensor {
  readonly kind = 'kvm';
  readonly #options: KvmSensorOptions;
  readonly #queue: BoundedEventQueue<GuestEvent>;
  readonly #exits = new Map<string, number>();
  readonly #vcpuByTid = new Map<number, number>();
  #instance: TracefsInstance | undefined;
  #pump: Promise<void> | undefined;
  #epochOffsetNs = 0n;
  #seen = 0;
  #malformed = 0;
  #unsatisfied = 0;
  #ringLost = 0;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #draining = false;
  #stopping: Promise<void> | undefined;
  readonly #serial = (nextSerial += 1);
  /** Tasks announced by {@link attribute}, by marker id, until the reader reaches the marker. */
  readonly #pendingTasks = new Map<number, GuestProcess | undefined>();
  readonly #currentTask = new Map<number, GuestProcess | undefined>();
  /** Markers written so far; 0 until attribution is in use. */
  #nextTaskId = 0;
  #unattributed = 0;

  constructor(options: KvmSensorOptions) {
    this.#options = options;
    this.#queue = new BoundedEventQueue<GuestEvent>({
      capacity: options.capacity ?? 65_536,
      policy: options.policy ?? OverflowPolicy.BACKPRESSURE,
    });
  }

  /** The tracefs instance's name (for checks that it is gone after `stop()`). */
  get instanceName(): string {
    return (
      this.#options.instanceName ??
      `vmsight-kvm-${process.pid}-${this.#options.qemuPid}-${this.#serial}`
    );
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') {
      throw new VmsightError('INVALID_ARGUMENT', 'Cannot start the KVM sensor twice');
    }
    this.#state = 'running';
    try {
      const pids = await this.#vcpuThreads();
      // trace_clock "mono" is CLOCK_MONOTONIC, the clock of process.hrtime.
      this.#epochOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
      this.#instance = await TracefsInstance.create({
        name: this.instanceName,
        events: KVM_TRACE_EVENTS,
        pids,
        bufferKb: this.#options.bufferKb ?? 4096,
      });
      this.#pump = this.#run(this.#instance);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  events(): AsyncIterable<GuestEvent> {
    return this.#queue;
  }

  stats(): KvmSensorStats {
    if (this.#instance !== undefined && this.#state !== 'stopped') {
      this.#ringLost = Math.max(this.#ringLost, this.#instance.lostEvents());
    }
    return {
      seen: this.#seen,
      delivered: this.#queue.delivered,
      dropped: this.#queue.dropped + this.#ringLost,
      malformed: this.#malformed,
      // I/O before the first task marker of its vCPU, once markers are in use.
      unattributed: this.#unattributed,
      ringLost: this.#ringLost,
      exits: Object.fromEntries(this.#exits),
      mmioUserspaceReads: this.#unsatisfied,
    };
  }

  /**
   * Switches the events off, lets the reader take what the buffer still holds (up to an end
   * marker), reads the final loss count and removes the instance. Safe to call more than once and
   * after a failed `start()`.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopped';
    this.#draining = true;
    const instance = this.#instance;
    try {
      if (instance !== undefined) {
        await instance.disableEvents().catch(() => undefined);
        await instance.mark(STOP_MARKER).catch(() => undefined);
        if (this.#pump !== undefined) {
          let timer: NodeJS.Timeout | undefined;
          const expired = new Promise<void>((resolve) => {
            timer = setTimeout(resolve, this.#options.stopTimeoutMs ?? 5000);
          });
          await Promise.race([this.#pump, expired]);
          clearTimeout(timer);
        }
        this.#ringLost = Math.max(this.#ringLost, instance.lostEvents());
      }
    } finally {
      this.#queue.close();
      await instance?.remove();
    }
  }

  /**
   * Records that `process` runs on `vcpu` from now on, as a marker in the instance's own ring
   * buffer (tracefs `trace_marker`): trace_pipe merges it with the KVM events by the same clock,
   * so every I/O event after it, and none before, is put on that task. Exact when the vCPU cannot
   * run meanwhile, as at a GDB breakpoint on `__switch_to` (`KvmAttributedSensor`).
   */
  async attribute(vcpu: number, process: GuestProcess | undefined): Promise<void> {
    const instance = this.#instance;
    if (instance === undefined || this.#state !== 'running') return;
    const id = (this.#nextTaskId += 1);
    if (this.#pendingTasks.size >= MAX_PENDING_TASKS) {
      const oldest = this.#pendingTasks.keys().next();
      if (oldest.done !== true) this.#pendingTasks.delete(oldest.value);
    }
    this.#pendingTasks.set(id, process);
    await instance.mark(`${TASK_MARKER} ${vcpu} ${id}`);
  }

  /** A task marker line moves its vCPU to the task it names (unknown ids: to no task). */
  #taskMarker(text: string): boolean {
    if (!text.includes(TASK_MARKER)) return false;
    const match = TASK_MARKER_LINE.exec(text);
    if (match === null) return false;
    const id = Number(match[2]);
    this.#currentTask.set(Number(match[1]), this.#pendingTasks.get(id));
    this.#pendingTasks.delete(id);
    return true;
  }

  /**
   * The vCPU threads (from QMP) with their vCPU index; every thread of the process without QMP
   * (KVM tracepoints only fire in vCPU threads, so this only widens the filter).
   */
  async #vcpuThreads(): Promise<number[]> {
    const monitor = this.#options.monitor;
    if (monitor !== undefined) {
      const reply = await monitor.execute('query-cpus-fast');
      if (Array.isArray(reply)) {
        for (const cpu of reply.slice(0, 4096) as unknown[]) {
          const { 'cpu-index': index, 'thread-id': tid } = (cpu ?? {}) as Record<string, unknown>;
          if (Number.isInteger(index) && Number.isInteger(tid)) {
            this.#vcpuByTid.set(tid as number, index as number);
          }
        }
      }
      if (this.#vcpuByTid.size > 0) return [...this.#vcpuByTid.keys()];
    }
    try {
      const tids = await readdir(`/proc/${this.#options.qemuPid}/task`);
      return tids.map(Number).filter((tid) => Number.isInteger(tid));
    } catch (cause) {
      throw new VmsightError('NOT_FOUND', `No QEMU process ${this.#options.qemuPid} to trace`, {
        cause,
      });
    }
  }

  async #run(instance: TracefsInstance): Promise<void> {
    try {
      const batches = splitLineBatches(instance.openPipe(), {
        source: 'trace_pipe',
        maxLineBytes: MAX_LINE_BYTES,
      });
      outer: for await (const batch of batches) {
        for (const line of batch) {
          if (line.text.endsWith(STOP_MARKER)) {
            break outer;
          }
          if (this.#taskMarker(line.text)) continue;
          const record = parseKvmTraceLine(line.text);
          if (record === undefined) continue;
          if (record === 'malformed') {
            this.#malformed += 1;
            continue;
          }
          const wait = this.#deliver(record);
          if (wait !== undefined) await wait;
        }
      }
      this.#queue.close();
    } catch (error) {
      if (this.#state === 'stopped') {
        // remove() destroyed the pipe after the stop timeout: not a failure.
        this.#queue.close();
        return;
      }
      this.#options.log?.warn({ err: error }, 'KVM sensor trace_pipe reader failed');
      this.#queue.close(
        error instanceof Error
          ? error
          : new VmsightError('IO_ERROR', 'Cannot read trace_pipe', { cause: error }),
      );
      // A sensor that cannot read must not leave its instance recording.
      void this.stop().catch(() => undefined);
    }
  }

  /** Counts an exit or queues an I/O event; a promise when the queue asks the reader to wait. */
  #deliver(record: KvmTraceRecord): Promise<void> | undefined {
    if (record.event === 'exit') {
      if (this.#exits.has(record.reason) || this.#exits.size < MAX_EXIT_REASONS) {
        this.#exits.set(record.reason, (this.#exits.get(record.reason) ?? 0) + 1);
      }
      return undefined;
    }
    const vcpu = this.#vcpuByTid.get(record.tid) ?? null;
    const { vm } = this.#options;
    if (record.event === 'mmio') {
      if (record.type === 'unsatisfied-read') this.#unsatisfied += 1;
      const event = kvmMmioToEvent(record, vm, this.#epochOffsetNs, vcpu);
      if (event === undefined) {
        if (record.type !== 'unsatisfied-read') this.#malformed += 1;
        return undefined;
      }
      return this.#push(event);
    }
    const event = kvmPioToEvent(record, vm, this.#epochOffsetNs, vcpu);
    if (event === undefined) {
      this.#malformed += 1;
      return undefined;
    }
    const repeat = Math.min(MAX_REPEAT, Math.max(1, record.count));
    if (repeat === 1) return this.#push(event);
    return (async () => {
      for (let i = 0; i < repeat; i += 1) await this.#push(event);
    })();
  }

  #push(io: GuestEvent): Promise<void> | undefined {
    this.#seen += 1;
    let event = io;
    if (this.#nextTaskId > 0 && io.vcpu !== null) {
      const process = this.#currentTask.get(io.vcpu);
      if (process === undefined) this.#unattributed += 1;
      else event = { ...io, process };
    }
    if (this.#draining) {
      this.#queue.offer(event);
      return undefined;
    }
    return this.#queue.push(event);
  }
}
