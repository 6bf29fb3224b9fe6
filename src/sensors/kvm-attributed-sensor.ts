import type { GuestEvent } from '../events/index.js';
import { GdbSensor, type GdbSensorOptions } from './gdb-sensor.js';
import { KvmSensor, type KvmSensorOptions, type KvmSensorStats } from './kvm-sensor.js';
import type { Sensor } from './sensor.js';

export interface KvmAttributedSensorOptions {
  /** The KVM sensor (ftrace I/O of the VM's vCPU threads); its `vm` names the events. */
  readonly kvm: KvmSensorOptions;
  /** The VM's gdbstub, `__switch_to` and the task reader (no syscall breakpoint: I/O only). */
  readonly gdb: Pick<GdbSensorOptions, 'gdb' | 'contextSwitch' | 'tasks' | 'log'>;
}

export interface KvmAttributedSensorStats extends KvmSensorStats {
  /** Context switches seen at the GDB breakpoint. */
  readonly switches: number;
}

/**
 * KVM I/O with the guest process behind it (issue 5's KVM sensor): the ftrace `KvmSensor` for
 * port I/O and MMIO, and a `GdbSensor` with a hardware breakpoint on `__switch_to` that stops the
 * vCPU at every context switch. While it is stopped there the new task is written into the KVM
 * sensor's own ring buffer as a trace marker (`KvmSensor.attribute`), so the order of markers and
 * I/O in trace_pipe is the order on the vCPU: no clocks of two processes are compared, and an I/O
 * event carries exactly the task that was current when it happened. Costs a VM stop per context
 * switch (tens per second on an idle Linux guest, src/sensors/README.md).
 *
 * @example
 * ```ts
 * import { KvmAttributedSensor } from './kvm-attributed-sensor.js';
 * const sensor = new KvmAttributedSensor({
 *   kvm: { vm: 'vm1', qemuPid: 4242 },
 *   gdb: { gdb: { port: 1234 }, contextSwitch: 0xffffffff81031080n },
 * });
 * await sensor.start();
 * for await (const event of sensor.events()) { console.log(event.process?.comm); break; }
 * await sensor.stop();
 * ```
 */
export class KvmAttributedSensor implements Sensor {
  readonly kind = 'kvm+gdb';
  readonly #kvm: KvmSensor;
  readonly #gdb: GdbSensor;
  #drain: Promise<void> | undefined;

  constructor(options: KvmAttributedSensorOptions) {
    const kvm = new KvmSensor(options.kvm);
    this.#kvm = kvm;
    this.#gdb = new GdbSensor({
      ...options.gdb,
      vm: options.kvm.vm,
      onContextSwitch: (vcpu, process) => kvm.attribute(vcpu, process),
    });
  }

  /** Tracing first, then the breakpoint: the VM (paused or running) resumes on the first hit's continue. */
  async start(): Promise<void> {
    await this.#kvm.start();
    try {
      await this.#gdb.start();
    } catch (error) {
      await this.#kvm.stop();
      throw error;
    }
    // The switch events themselves are not delivered: drain them so the GDB sensor's queue never
    // holds the VM stopped.
    const switches = this.#gdb.events();
    this.#drain = (async () => {
      for await (const event of switches) void event;
    })();
  }

  events(): AsyncIterable<GuestEvent> {
    return this.#kvm.events();
  }

  stats(): KvmAttributedSensorStats {
    return { ...this.#kvm.stats(), switches: this.#gdb.stats().hits };
  }

  /** Detaches GDB first (the VM runs on at full speed), then stops tracing. */
  async stop(): Promise<void> {
    try {
      await this.#gdb.stop();
    } finally {
      await this.#kvm.stop();
      await this.#drain?.catch(() => undefined);
    }
  }
}
