import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { VmsightError, splitLines } from '../core/index.js';
import type { PortIoEvent } from '../events/index.js';
import { kvmPioToEvent, parseKvmPioLine } from './kvm-pio-parser.js';

const TRACEFS = '/sys/kernel/tracing';
const live = new Set<string>();
let exitHookInstalled = false;

function removeSync(dir: string): void {
  try {
    execFileSync(
      'sh',
      [
        '-c',
        `echo 0 > '${dir}/tracing_on'; echo 0 > '${dir}/events/kvm/kvm_pio/enable'; rmdir '${dir}'`,
      ],
      { stdio: 'ignore' },
    );
  } catch {
    // Best effort on exit: the instance may already be gone.
  }
}

/**
 * A tracefs instance of vmsight's own with `kvm:kvm_pio` enabled for one QEMU process's threads
 * (lab-notes.md §8). Its own instance leaves the global buffer and other users' instances alone.
 * Always `close()` it; it is also removed on process exit.
 */
export class KvmPioTrace {
  readonly dir: string;
  readonly #vm: string;
  readonly #epochOffsetNs: bigint;
  #stream: ReturnType<typeof createReadStream> | undefined;

  private constructor(dir: string, vm: string) {
    this.dir = dir;
    this.#vm = vm;
    // trace_clock "mono" is CLOCK_MONOTONIC, the clock of process.hrtime.
    this.#epochOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  }

  /** Creates the instance and enables `kvm_pio` for the threads of `qemuPid` (start QEMU with -S). */
  static async open(options: { name: string; vm: string; qemuPid: number }): Promise<KvmPioTrace> {
    if (!existsSync(join(TRACEFS, 'instances'))) {
      try {
        execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { stdio: 'ignore' });
      } catch (cause) {
        throw new VmsightError('DEPENDENCY_MISSING', `Cannot mount tracefs at ${TRACEFS}`, {
          cause,
        });
      }
    }
    const dir = join(TRACEFS, 'instances', options.name);
    await mkdir(dir);
    live.add(dir);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const left of live) removeSync(left);
      });
    }
    const trace = new KvmPioTrace(dir, options.vm);
    try {
      await writeFile(join(dir, 'trace_clock'), 'mono');
      const tids = await readdir(`/proc/${options.qemuPid}/task`);
      await writeFile(join(dir, 'set_event_pid'), tids.join(' '));
      await writeFile(join(dir, 'events/kvm/kvm_pio/enable'), '1');
      await writeFile(join(dir, 'tracing_on'), '1');
    } catch (cause) {
      await trace.close();
      throw new VmsightError('IO_ERROR', `Cannot set up tracefs instance "${options.name}"`, {
        cause,
      });
    }
    return trace;
  }

  /** The port accesses as guest events, in order, until `close()`. */
  async *events(): AsyncGenerator<PortIoEvent> {
    this.#stream = createReadStream(join(this.dir, 'trace_pipe'));
    for await (const line of splitLines(this.#stream, {
      source: 'trace_pipe',
      maxLineBytes: 4096,
    })) {
      const record = parseKvmPioLine(line.text);
      if (record === undefined) continue;
      for (let i = 0; i < Math.max(1, record.count); i += 1) {
        const event = kvmPioToEvent(record, this.#vm, this.#epochOffsetNs);
        if (event !== undefined) yield event;
      }
    }
  }

  async close(): Promise<void> {
    if (!live.has(this.dir)) return;
    // A pending trace_pipe read blocks until a line arrives: a marker line (written while tracing
    // is still on) releases it, and the instance cannot be removed while the pipe is open.
    this.#stream?.destroy();
    await writeFile(join(this.dir, 'trace_marker'), 'vmsight-close\n').catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(join(this.dir, 'tracing_on'), '0').catch(() => undefined);
    await writeFile(join(this.dir, 'events/kvm/kvm_pio/enable'), '0').catch(() => undefined);
    for (let attempt = 0; attempt < 50; attempt += 1) {
      try {
        await rmdir(this.dir);
        live.delete(this.dir);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    throw new VmsightError('IO_ERROR', `Cannot remove tracefs instance ${this.dir}`);
  }
}
