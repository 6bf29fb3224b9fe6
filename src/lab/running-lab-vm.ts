import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QmpClient } from '../connectors/index.js';
import { VmsightError, type Logger } from '../core/index.js';
import { releaseProcess } from './process-guard.js';
import { SerialLogReader } from './serial-log-reader.js';
import { stopLabVmProcess, type StopResult } from './vm-stopper.js';
import type { LabVmState } from './vm-state.js';

const DEFAULT_SERIAL_TIMEOUT_MS = 60_000;

/** A running lab VM. Always `stop()` it (tests: in an `after` hook). */
export interface LabVm {
  readonly name: string;
  readonly pid: number;
  readonly dir: string;
  readonly qmpSocket: string;
  /** Guest physical memory as a file: offset = guest physical address. */
  readonly ramPath: string;
  readonly memoryBytes: number;
  readonly serialPath: string;
  readonly gdbPort?: number | undefined;
  readonly kernelVersion: string;
  /** A connected QMP client (shared by all callers of this VM; closed by `stop()`). */
  qmp(): Promise<QmpClient>;
  /**
   * Waits until the serial console output matches `pattern` and returns the first line that
   * matches. Fails with `TIMEOUT`, or `CONNECTOR_ERROR` as soon as QEMU has exited without it.
   */
  waitForSerial(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** ACPI power-down, then QMP quit, then kill by pid; removes the RAM file. Idempotent. */
  stop(): Promise<void>;
}

async function tail(path: string, lines = 20): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The `LabVm` that `startLabVm` returns: owns the QEMU child process it was given. */
export class RunningLabVm implements LabVm {
  readonly #state: LabVmState;
  readonly #log: Logger | undefined;
  #exit: { code: number | null; signal: string | null } | undefined;
  #qmp: Promise<QmpClient> | undefined;
  #stopping: Promise<StopResult> | undefined;
  #handedOver = false;

  constructor(state: LabVmState, log: Logger | undefined) {
    this.#state = state;
    this.#log = log;
  }

  get name(): string {
    return this.#state.name;
  }
  get pid(): number {
    return this.#state.pid;
  }
  get dir(): string {
    return this.#state.dir;
  }
  get qmpSocket(): string {
    return this.#state.qmpSocket;
  }
  get ramPath(): string {
    return this.#state.ramPath;
  }
  get memoryBytes(): number {
    return this.#state.memoryBytes;
  }
  get serialPath(): string {
    return this.#state.serialPath;
  }
  get kernelVersion(): string {
    return this.#state.kernelVersion;
  }
  get gdbPort(): number | undefined {
    return this.#state.gdbPort;
  }

  #onExit: (() => void) | undefined;
  readonly #exited = new Promise<void>((resolve) => {
    this.#onExit = resolve;
  });

  markExited(code: number | null, signal: string | null): void {
    this.#exit = { code, signal };
    this.#onExit?.();
  }

  /** From the child's own exit event (which also says why), not a /proc probe that can race exec. */
  #hasExited(): boolean {
    return this.#exit !== undefined;
  }

  qmp(): Promise<QmpClient> {
    const current = this.#qmp;
    if (current !== undefined) {
      return current.then(
        (client) => (client.isOpen ? client : this.#connectQmp()),
        () => this.#connectQmp(),
      );
    }
    return this.#connectQmp();
  }

  #connectQmp(): Promise<QmpClient> {
    if (this.#stopping !== undefined) {
      return Promise.reject(
        new VmsightError(
          'CONNECTOR_ERROR',
          `Cannot open QMP to lab VM "${this.name}": it is stopping`,
        ),
      );
    }
    const connecting = QmpClient.connect(
      this.qmpSocket,
      this.#log === undefined ? {} : { log: this.#log },
    );
    this.#qmp = connecting;
    return connecting;
  }

  async waitForSerial(pattern: RegExp, timeoutMs = DEFAULT_SERIAL_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const matcher = new RegExp(pattern.source, pattern.flags.replace('g', ''));
    const reader = new SerialLogReader(this.serialPath);
    for (;;) {
      // Checked before reading, so output written just before QEMU exited is still seen.
      const exited = this.#hasExited();
      const lines = await reader.readLines();
      if (exited) lines.push(reader.partialLine);
      const line = lines.find((l) => matcher.test(l));
      if (line !== undefined) return line;
      if (exited) {
        const how =
          this.#exit === undefined
            ? 'exited'
            : `exited (${this.#exit.signal ?? `status ${this.#exit.code}`})`;
        throw new VmsightError(
          'CONNECTOR_ERROR',
          `Lab VM "${this.name}" ${how} before its serial console matched ${String(pattern)}: last output:\n${await tail(this.serialPath)}\n${await tail(join(this.dir, 'qemu.log'), 5)}`,
          { details: { vm: this.name, serial: this.serialPath } },
        );
      }
      if (Date.now() >= deadline) {
        throw new VmsightError(
          'TIMEOUT',
          `Lab VM "${this.name}" serial console did not match ${String(pattern)} within ${timeoutMs} ms: last output:\n${await tail(this.serialPath)}`,
          { details: { vm: this.name, serial: this.serialPath, timeoutMs } },
        );
      }
      await sleep(50);
    }
  }

  /**
   * The VM moved to another QEMU (`relaunchLabVmWith`): from now on `stop()` only closes this
   * object's QMP client, and leaves the RAM file and state directory, which the new QEMU uses.
   */
  handOver(): void {
    this.#handedOver = true;
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const client = await this.#qmp?.catch(() => undefined);
      await client?.close();
      if (this.#handedOver) return { method: 'already-stopped' } as const;
      const result = await stopLabVmProcess(
        this.#state,
        this.#log === undefined ? {} : { log: this.#log },
      );
      // Our own child is reaped by Node after it exits; until then its pid still answers kill(0).
      await Promise.race([this.#exited, sleep(3000)]);
      releaseProcess(this.pid);
      this.#log?.debug({ vm: this.name, method: result.method }, 'lab VM stopped');
      return result;
    })();
    return this.#stopping.then(() => undefined);
  }
}
