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
import { asJson, queryVmFacts } from './vm-facts.js';
import { isJsonObject, type JsonObject } from './canonical-json.js';
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

const DEFAULT_TIMEOUT_MS = 600_000;

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
      const { config, identity, registers: cpuRegisters } = await queryVmFacts(qmp);
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
