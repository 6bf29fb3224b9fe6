import { VmsightError, type Logger } from '../core/index.js';
import { GdbClient, type GdbClientOptions, type X86Registers } from '../connectors/index.js';
import type { GuestEvent, GuestProcess } from '../events/index.js';
import { BoundedEventQueue } from './bounded-event-queue.js';
import type { TaskReader } from './guest-task-reader.js';
import type { SyscallArgumentReader } from './syscall-argument-reader.js';
import { OverflowPolicy, type Sensor, type SensorStats } from './sensor.js';
import { TcgEventDecoder } from './tcg-event-decoder.js';

export interface GdbSensorOptions {
  /** VM id put on every event. */
  readonly vm: string;
  /** The VM's gdbstub (`-gdb tcp:HOST:PORT`, or HMP `gdbserver` at run time). */
  readonly gdb: GdbClientOptions;
  /** `__switch_to` (RSI = next task): where the current task of each vCPU is learnt. */
  readonly contextSwitch: bigint;
  /**
   * `entry_SYSCALL_64`: also stop at every system call. Off by default: each hit costs a
   * stop/step/continue round trip (lab-notes §4: ~230 hits/s under TCG, a ~4000× slowdown of a
   * syscall loop), so this is a fallback where no other syscall source exists.
   */
  readonly syscallEntry?: bigint;
  /** Reads tasks for attribution; without it events carry no `process`. */
  readonly tasks?: TaskReader;
  /**
   * Called at every `__switch_to` hit with the vCPU and its next task, while the VM is still
   * stopped there: whatever it records happens between the vCPU's last action as the old task
   * and its first as the new one (`KvmAttributedSensor` writes a trace marker).
   */
  readonly onContextSwitch?: (vcpu: number, process: GuestProcess | undefined) => Promise<void>;
  /**
   * Reads execve/open/connect arguments from guest memory, while the VM is stopped at the syscall
   * entry (so they are the call's own, never stale). Without it events carry registers only.
   */
  readonly arguments?: SyscallArgumentReader;
  /**
   * `backpressure` (default): the VM stays stopped at the breakpoint until the event fits, so
   * nothing is lost. `drop`: continue at once and count what does not fit.
   */
  readonly policy?: OverflowPolicy;
  /** Queue capacity in events. Default 65,536. */
  readonly capacity?: number;
  readonly log?: Logger;
}

/** {@link SensorStats} plus the breakpoint hits behind them. */
export interface GdbSensorStats extends SensorStats {
  readonly hits: number;
  /** Hits per second since `start()` (on the host clock). */
  readonly hitsPerSecond: number;
  /** Steps QEMU answered without leaving the breakpoint (each retried by `GdbClient.continue`). */
  readonly stepRetries: number;
}

/** A `continue` that sees no hit for this long is interrupted and resumed (the client's deadline). */
const CONTINUE_SLICE_MS = 30_000;

/**
 * The GDB-remote-protocol sensor: hardware breakpoints (`Z1`, honoured by QEMU's gdbstub under
 * TCG and under KVM, where software ones are not: lab-notes §4) on `__switch_to` for process
 * attribution and, where asked, on `entry_SYSCALL_64` for system calls. At each hit the registers
 * are read (`g`) and decoded by the same decoder as the TCG sensor's register dumps, so both
 * attribute identically. The client handles QEMU 7.2's gdbstub pitfalls: stale stop packets are
 * drained, `continue` steps off a breakpoint first, detach is `D;1`. `stop()` interrupts, removes
 * the breakpoints and detaches, which resumes the VM at full speed.
 *
 * Slow by design: every hit stops the VM. Use it where nothing else can see processes or syscalls
 * (a KVM guest next to `KvmSensor`), never as the bulk syscall source on TCG (`TcgSensor`).
 *
 * @example
 * ```ts
 * import { GdbSensor } from './gdb-sensor.js';
 * const sensor = new GdbSensor({ vm: 'lab', gdb: { port: 1234 }, contextSwitch: 0xffffffff81031080n });
 * await sensor.start();
 * for await (const event of sensor.events()) { console.log(event.type); break; }
 * await sensor.stop();
 * ```
 */
export class GdbSensor implements Sensor {
  readonly kind = 'gdb';
  readonly #options: GdbSensorOptions;
  readonly #queue: BoundedEventQueue<GuestEvent>;
  readonly #decoder: TcgEventDecoder;
  readonly #epochOffsetNs: bigint;
  #client: GdbClient | undefined;
  #pump: Promise<void> | undefined;
  #seen = 0;
  #hits = 0;
  #startedAt = 0;
  #stoppedAt: number | undefined;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #stopping: Promise<void> | undefined;

  constructor(options: GdbSensorOptions) {
    this.#options = options;
    this.#queue = new BoundedEventQueue<GuestEvent>({
      capacity: options.capacity ?? 65_536,
      policy: options.policy ?? OverflowPolicy.BACKPRESSURE,
    });
    this.#decoder = new TcgEventDecoder({
      vm: options.vm,
      // The decoder matches a hit's pc against these; with no syscall breakpoint, a value no
      // hit can have (0 is never a kernel text address).
      addresses: {
        syscallEntry: options.syscallEntry ?? 0n,
        contextSwitch: options.contextSwitch,
      },
      ...(options.tasks === undefined ? {} : { tasks: options.tasks }),
      ...(options.arguments === undefined ? {} : { arguments: options.arguments }),
    });
    this.#epochOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') {
      throw new VmsightError('INVALID_ARGUMENT', 'Cannot start the GDB sensor twice');
    }
    this.#state = 'running';
    try {
      // Connecting stops the VM (and drains stale stop packets); it runs again on the first continue.
      const client = await GdbClient.connect(this.#options.gdb);
      this.#client = client;
      await client.insertBreakpoint('hardware', this.#options.contextSwitch);
      if (this.#options.syscallEntry !== undefined) {
        await client.insertBreakpoint('hardware', this.#options.syscallEntry);
      }
      this.#startedAt = Date.now();
      this.#pump = this.#run(client);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  events(): AsyncIterable<GuestEvent> {
    return this.#queue;
  }

  stats(): GdbSensorStats {
    const seconds = ((this.#stoppedAt ?? Date.now()) - this.#startedAt) / 1000;
    return {
      seen: this.#seen,
      delivered: this.#queue.delivered,
      dropped: this.#queue.dropped,
      malformed: 0,
      unattributed: this.#decoder.unattributed,
      hits: this.#hits,
      hitsPerSecond: this.#startedAt > 0 && seconds > 0 ? this.#hits / seconds : 0,
      stepRetries: this.#client?.stepRetries ?? 0,
    };
  }

  /** Interrupts the VM, removes the breakpoints and detaches (`D;1`): the VM runs on at full speed. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopped';
    this.#stoppedAt = Date.now();
    // Wake a reader waiting for queue room (backpressure): it must not hold the VM stopped.
    this.#queue.close();
    const client = this.#client;
    try {
      if (client !== undefined) {
        // The reader may be about to send `c`: interrupt whenever it is running, until it ends.
        let ended = this.#pump === undefined;
        void this.#pump?.finally(() => {
          ended = true;
        });
        for (let i = 0; !ended && i < 400; i += 1) {
          if (client.running) await client.interrupt().catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        // detach() removes our breakpoints first, then `D;1`: QEMU resumes the VM.
        await client.detach();
      }
    } catch (error) {
      client?.close();
      throw new VmsightError('CONNECTOR_ERROR', 'Cannot detach from the gdbstub cleanly', {
        cause: error,
      });
    } finally {
      this.#options.tasks?.close();
    }
  }

  async #run(client: GdbClient): Promise<void> {
    try {
      while (this.#state === 'running') {
        let stop;
        try {
          stop = await client.continue({ timeoutMs: CONTINUE_SLICE_MS });
        } catch (error) {
          // No hit within the slice: the client interrupted the VM; resume it.
          if (error instanceof VmsightError && error.code === 'TIMEOUT') continue;
          throw error;
        }
        if (stop.kind !== 'signal') break; // the VM quit
        if (this.#state !== 'running') break; // our own interrupt
        const registers = await client.readRegisters();
        const vcpu = vcpuOf(stop.thread);
        const wait = this.#hit(registers, vcpu);
        if (wait !== undefined) await wait;
        const onSwitch = this.#options.onContextSwitch;
        if (onSwitch !== undefined && registers.rip === this.#options.contextSwitch) {
          await onSwitch(vcpu, this.#decoder.currentProcess(vcpu));
        }
      }
    } catch (error) {
      if (this.#state !== 'running') return;
      this.#options.log?.warn({ err: error }, 'GDB sensor failed');
      this.#queue.close(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #isProbe(pc: bigint): boolean {
    return pc === this.#options.contextSwitch || pc === this.#options.syscallEntry;
  }

  /** Decodes one breakpoint hit; a promise when the queue asks the VM to wait. */
  #hit(registers: X86Registers, vcpu: number): Promise<void> | undefined {
    const pc = registers.rip;
    if (!this.#isProbe(pc)) return undefined;
    this.#hits += 1;
    const value = (name: string): bigint => registers.values.get(name) ?? 0n;
    const event = this.#decoder.decode({
      kind: 'exec',
      vcpu,
      pc,
      registers: {
        rax: value('rax'),
        rdi: value('rdi'),
        rsi: value('rsi'),
        rdx: value('rdx'),
        r10: value('r10'),
        r8: value('r8'),
        r9: value('r9'),
        cr3: registers.cr3,
      },
    });
    if (event === undefined) return undefined;
    // A hit read while stop() runs is not part of the capture: stop() closed the queue, which
    // would discard it, and `seen` must stay what was delivered or dropped.
    if (this.#state !== 'running') return undefined;
    this.#seen += 1;
    return this.#queue.push({ ...event, time: process.hrtime.bigint() + this.#epochOffsetNs });
  }
}

/** QEMU's gdbstub names vCPU threads `p<pid>.<cpu_index + 1>` (multiprocess) or `<cpu_index + 1>`. */
function vcpuOf(thread: string | undefined): number {
  const id = /(?:^|\.)([0-9a-f]+)$/i.exec(thread ?? '')?.[1];
  const number = id === undefined ? 1 : Number.parseInt(id, 16);
  return Number.isFinite(number) && number >= 1 ? number - 1 : 0;
}
