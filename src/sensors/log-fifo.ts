import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VmsightError } from '../core/index.js';

const run = promisify(execFile);

/** A named pipe in a private directory of its own; `remove()` deletes both. */
export interface LogFifo {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * Creates a FIFO for QEMU's debug log. A FIFO, not a file: the `cpu,exec` log grows by about
 * 125 MB/s, and truncating a file QEMU writes leaves NUL holes because QEMU keeps its offset
 * (lab-notes, pitfalls). Through a FIFO QEMU blocks when the reader is behind, so nothing is lost.
 * Node has no mkfifo(3), so this runs coreutils `mkfifo` with mode 0600.
 *
 * @example
 * ```ts
 * import { createLogFifo } from './log-fifo.js';
 * const fifo = await createLogFifo();
 * await fifo.remove();
 * ```
 */
export async function createLogFifo(parent: string = tmpdir()): Promise<LogFifo> {
  const dir = await mkdtemp(join(parent, 'vmsight-tcg-'));
  const path = join(dir, 'qemu-log.fifo');
  try {
    await run('mkfifo', ['-m', '600', path]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new VmsightError('IO_ERROR', `Cannot create FIFO "${path}"`, { cause: error });
  }
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
