import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { QmpClient, QmpDumpQueryResult, QmpEvent } from '../connectors/index.js';
import { VmsightError } from '../core/index.js';
import { isProcessAlive } from './blob-store.js';
import { guardFifo } from './fifo-guardian.js';
import { readFifo } from './fifo-reader.js';
import { isJsonObject, type JsonObject, type JsonValue } from './canonical-json.js';
import type { CaptureRecord, ImageSink } from './evidence-locker.js';

const run = promisify(execFile);

export interface QmpCaptureOptions {
  readonly qmp: QmpClient;
  /** The VM's name as vmsight knows it (recorded in the identity document). */
  readonly vmName: string;
  /** Keep the VM paused from before the register snapshot until the dump is complete. */
  readonly pause?: boolean;
  /** Where the FIFO's private directory is made (the evidence store's tmp directory). */
  readonly fifoParent: string;
  /** Deadline for the dump to complete. Default 10 minutes. */
  readonly timeoutMs?: number;
  /** More identity facts (the QMP socket path, the QEMU pid). */
  readonly identity?: JsonObject;
}

/** query-* commands whose results describe the machine (QEMU 7.2 QAPI schema). */
const CONFIG_QUERIES = [
  'query-version',
  'query-target',
  'query-kvm',
  'query-status',
  'query-cpus-fast',
  'query-memory-size-summary',
  'query-memdev',
  'query-dump-guest-memory-capability',
] as const;
/** query-* commands whose results identify the tenant's VM: withheld by `--pseudonymise`. */
const IDENTITY_QUERIES = ['query-name', 'query-uuid', 'query-block', 'query-chardev'] as const;

const DEFAULT_TIMEOUT_MS = 600_000;

/** Anything QEMU returns, as JSON vmsight can sign (QMP replies are JSON already). */
function asJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

async function queryAll(qmp: QmpClient, commands: readonly string[]): Promise<JsonObject> {
  const out: Record<string, JsonValue> = {};
  for (const command of commands) {
    try {
      out[command] = asJson(await qmp.execute(command, {}, { timeoutMs: 10_000 }));
    } catch (error) {
      // A command this QEMU lacks is recorded as such, not fatal: the record says what was asked.
      out[command] = { error: error instanceof Error ? error.message : String(error) };
    }
  }
  return out;
}

async function registers(qmp: QmpClient, cpus: JsonValue): Promise<JsonObject> {
  const out: Record<string, JsonValue> = {};
  const list = Array.isArray(cpus) ? (cpus as JsonValue[]) : [];
  for (const cpu of list) {
    const index = isJsonObject(cpu) ? cpu['cpu-index'] : undefined;
    if (typeof index !== 'number') continue;
    out[String(index)] = asJson(
      await qmp.execute(
        'human-monitor-command',
        { 'command-line': 'info registers', 'cpu-index': index },
        { timeoutMs: 10_000 },
      ),
    );
  }
  return out;
}

async function waitForDump(
  events: AsyncIterableIterator<QmpEvent>,
  timeoutMs: number,
): Promise<QmpDumpQueryResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new VmsightError(
            'TIMEOUT',
            `QMP dump-guest-memory did not complete within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
  });
  const completed = (async () => {
    for await (const event of events) {
      if (event.name !== 'DUMP_COMPLETED') continue;
      const result = event.data['result'];
      if (!isJsonObject(result)) {
        throw new VmsightError('INVALID_INPUT', 'QMP DUMP_COMPLETED carries no result');
      }
      const error = event.data['error'];
      if (typeof error === 'string' && result['status'] !== 'completed') {
        throw new VmsightError('CONNECTOR_ERROR', `QMP dump-guest-memory failed: ${error}`);
      }
      return result as unknown as QmpDumpQueryResult;
    }
    throw new VmsightError('CONNECTOR_ERROR', 'The QMP connection closed before DUMP_COMPLETED');
  })();
  try {
    return await Promise.race([completed, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Removes FIFO directories left by acquisitions whose process is gone (`kill -9` mid-dump), and
 * returns their names.
 */
export async function removeStaleFifos(parent: string): Promise<string[]> {
  const names = await readdir(parent).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(/^dump-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isProcessAlive(pid)) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Makes a reader blocked in open(2) on the FIFO return (with end of file) when QEMU never opens it. */
function releaseFifoReader(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // No reader waiting (ENXIO) or already gone: nothing to release.
  }
}

/**
 * A capture over QMP: records the machine's configuration and vCPU registers, then runs
 * `dump-guest-memory` (ELF, `paging: false`, `detach: true`; qapi/dump.json) into a FIFO that the
 * sink reads, so the image reaches the blob store compressed and hashed without touching the disk
 * uncompressed. QEMU pauses the guest for the dump by itself; with `pause` the guest stays paused
 * from before the register snapshot until the dump completed, so registers and memory agree.
 *
 * @example
 * ```ts
 * import { qmpMemoryCapture } from './qmp-memory-capture.js';
 * await locker.acquire({ subject: 'web1', capture: qmpMemoryCapture({ qmp, vmName: 'web1', fifoParent: '/tmp' }) });
 * ```
 */
export function qmpMemoryCapture(
  options: QmpCaptureOptions,
): (sink: ImageSink) => Promise<CaptureRecord> {
  return async (sink) => {
    const { qmp } = options;
    const startedAt = new Date().toISOString();
    const before = await qmp.execute('query-status', {}, { timeoutMs: 10_000 });
    let pausedByUs = false;
    if (options.pause === true && before.running) {
      await qmp.execute('stop', {}, { timeoutMs: 10_000 });
      pausedByUs = true;
    }
    await mkdir(options.fifoParent, { recursive: true, mode: 0o700 });
    const dir = await mkdtemp(join(options.fifoParent, `dump-${process.pid}-`));
    const events = qmp.events();
    let releaseGuard: (() => Promise<void>) | undefined;
    try {
      const config = await queryAll(qmp, CONFIG_QUERIES);
      const identity = await queryAll(qmp, IDENTITY_QUERIES);
      const cpuRegisters = await registers(qmp, config['query-cpus-fast'] ?? null);
      const summary = config['query-memory-size-summary'];
      const baseMemory = isJsonObject(summary) ? summary['base-memory'] : undefined;
      const fifo = join(dir, 'memory.elf');
      try {
        await run('mkfifo', ['-m', '600', fifo]);
      } catch (error) {
        throw new VmsightError('IO_ERROR', `Cannot create FIFO "${fifo}"`, { cause: error });
      }
      // QEMU's open of the FIFO must never block (fifo-guardian.ts), so a reader exists before
      // the dump command is sent, and outlives this process only as long as it needs to.
      const guard = await guardFifo(fifo);
      releaseGuard = () => guard.release();
      // Opening a FIFO for reading blocks until QEMU opens it for writing (fifo(7)): in the
      // background, through the sink.
      const stored = sink(readFifo(fifo), typeof baseMemory === 'number' ? baseMemory : undefined);
      try {
        await qmp.execute(
          'dump-guest-memory',
          { paging: false, protocol: `file:${fifo}`, detach: true, format: 'elf' },
          { timeoutMs: 30_000 },
        );
      } catch (error) {
        releaseFifoReader(fifo);
        await stored.catch(() => undefined);
        throw error;
      }
      const [digest, dump] = await Promise.allSettled([
        stored,
        waitForDump(events, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      ]);
      // The sink's failure (a full disk) is the cause when both failed: QEMU's dump then only
      // reports the pipe we closed.
      if (digest.status === 'rejected') throw digest.reason;
      if (dump.status === 'rejected') throw dump.reason;
      if (dump.value.status !== 'completed') {
        throw new VmsightError(
          'CONNECTOR_ERROR',
          `QMP dump-guest-memory ended "${dump.value.status}"`,
        );
      }
      const finishedAt = new Date().toISOString();
      return {
        identity: { vm: options.vmName, ...identity, ...(options.identity ?? {}) },
        config: { ...config, registers: cpuRegisters, dump: asJson(dump.value) },
        method: {
          command: 'dump-guest-memory',
          format: 'elf',
          paging: false,
          transport: 'fifo',
          pausedThroughout: pausedByUs || !before.running,
          statusBefore: before.status,
        },
        startedAt,
        finishedAt,
      };
    } finally {
      await releaseGuard?.();
      await events.return?.();
      if (pausedByUs) await qmp.execute('cont', {}, { timeoutMs: 10_000 }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  };
}
