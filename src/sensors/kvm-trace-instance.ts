import { readdir } from 'node:fs/promises';
import { VmsightError, splitLines } from '../core/index.js';
import type { PortIoEvent } from '../events/index.js';
import { kvmPioToEvent, parseKvmPioLine } from './kvm-pio-parser.js';
import { TracefsInstance } from './tracefs-instance.js';

/** Repeat counts of a `rep outs` beyond this are cut: the kernel bounds them by a page anyway. */
const MAX_REPEAT = 4096;

/**
 * `kvm:kvm_pio` alone for one QEMU process's threads, in a tracefs instance of vmsight's own
 * (lab-notes.md §8): the low-latency port-I/O feed the escape guard reads. `KvmSensor` is the full
 * sensor (port I/O, MMIO, exits, counted losses). Always `close()` it; it is also removed on exit.
 *
 * @example
 * ```ts
 * import { KvmPioTrace } from './kvm-trace-instance.js';
 * const trace = await KvmPioTrace.open({ name: 'vmsight-guard-1', vm: 'vm1', qemuPid: 4242 });
 * for await (const event of trace.events()) { console.log(event.port); break; }
 * await trace.close();
 * ```
 */
export class KvmPioTrace {
  readonly dir: string;
  readonly #instance: TracefsInstance;
  readonly #vm: string;
  readonly #epochOffsetNs: bigint;

  private constructor(instance: TracefsInstance, vm: string) {
    this.#instance = instance;
    this.dir = instance.dir;
    this.#vm = vm;
    // trace_clock "mono" is CLOCK_MONOTONIC, the clock of process.hrtime.
    this.#epochOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  }

  /** Creates the instance and enables `kvm_pio` for the threads of `qemuPid` (start QEMU with -S). */
  static async open(options: { name: string; vm: string; qemuPid: number }): Promise<KvmPioTrace> {
    let tids: string[];
    try {
      tids = await readdir(`/proc/${options.qemuPid}/task`);
    } catch (cause) {
      throw new VmsightError('NOT_FOUND', `No process ${options.qemuPid} to trace`, { cause });
    }
    const instance = await TracefsInstance.create({
      name: options.name,
      events: ['kvm:kvm_pio'],
      pids: tids.map(Number),
    });
    return new KvmPioTrace(instance, options.vm);
  }

  /** The port accesses as guest events, in order, until `close()`. */
  async *events(): AsyncGenerator<PortIoEvent> {
    for await (const line of splitLines(this.#instance.openPipe(), {
      source: 'trace_pipe',
      maxLineBytes: 4096,
    })) {
      const record = parseKvmPioLine(line.text);
      if (record === undefined) continue;
      for (let i = 0; i < Math.min(MAX_REPEAT, Math.max(1, record.count)); i += 1) {
        const event = kvmPioToEvent(record, this.#vm, this.#epochOffsetNs);
        if (event !== undefined) yield event;
      }
    }
  }

  async close(): Promise<void> {
    await this.#instance.remove();
  }
}
