import { spawn } from 'node:child_process';
import { VmsightError } from '../core/index.js';

/**
 * The guardian: a tiny Node process that holds the FIFO's read end open without reading, until
 * its standard input closes, which happens when vmsight releases it or dies (even by SIGKILL).
 */
const GUARDIAN_SCRIPT = `
const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
process.stdout.write('ready\\n');
const done = () => { try { fs.closeSync(fd); } catch {} process.exit(0); };
process.stdin.on('end', done);
process.stdin.on('error', done);
process.stdin.resume();
`;

export interface FifoGuard {
  /** Lets the guardian close its read end and exit. Idempotent. */
  release(): Promise<void>;
}

/**
 * Keeps a reader on `path` for as long as this process lives, in a separate process.
 *
 * Threat: QEMU opens the dump FIFO for writing in its main loop (qmp_dump_guest_memory), and
 * open(2) of a FIFO without a reader blocks (fifo(7)). If vmsight were killed after sending
 * `dump-guest-memory` but before QEMU opened the FIFO, QEMU would hang for good, monitor and guest
 * with it. With the guardian holding a read end, QEMU's open returns at once; when vmsight dies,
 * the guardian sees its standard input close, drops the read end, and QEMU's next write fails with
 * EPIPE, which ends the dump and resumes the guest. The guardian never reads, so every byte still
 * reaches vmsight's own reader.
 *
 * @example
 * ```ts
 * import { guardFifo } from './fifo-guardian.js';
 * const guard = await guardFifo('/tmp/dump/memory.elf');
 * await guard.release();
 * ```
 */
export async function guardFifo(path: string, timeoutMs = 10_000): Promise<FifoGuard> {
  const child = spawn(process.execPath, ['-e', GUARDIAN_SCRIPT, path], {
    stdio: ['pipe', 'pipe', 'ignore'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new VmsightError('TIMEOUT', `FIFO guardian for "${path}" did not start`)),
        timeoutMs,
      );
      child.stdout.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new VmsightError('IO_ERROR', `Cannot start the FIFO guardian: ${error.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new VmsightError('IO_ERROR', `FIFO guardian for "${path}" exited with ${code}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.stdout.destroy();
  child.unref();
  let released: Promise<void> | undefined;
  return {
    release: () => {
      released ??= (async () => {
        // Referenced again while waiting, or an otherwise idle event loop would end under us.
        child.ref();
        child.stdin.end();
        await exited;
      })();
      return released;
    },
  };
}
