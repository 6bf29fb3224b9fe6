import { spawn } from 'node:child_process';
import { VmsightError } from '../core/index.js';

/**
 * The guardian: a tiny Node process that holds the FIFO's read end open without reading. vmsight
 * releases it with a `release` line on its standard input. If its standard input closes without
 * one, vmsight died (even by SIGKILL): QEMU may still be about to open the FIFO for the command it
 * was sent, and open(2) of a FIFO with no reader would block QEMU's main loop for good (fifo(7)).
 * So the guardian keeps the read end and drains whatever QEMU writes, until QEMU's writer closes
 * (read returns 0 after a writer was seen) or, if no writer ever comes, for at most
 * LINGER_NO_WRITER_MS. QEMU's dump then completes into the void and the guest resumes. It reads
 * while data flows and polls every millisecond when the pipe is empty: a FIFO holds only 64 KiB, so
 * a slower poll would keep QEMU in its dump (and the guest paused) for minutes.
 */
// QEMU handles a command it has received within milliseconds; 5 s covers a heavily loaded host.
const LINGER_NO_WRITER_MS = 5_000;
const GUARDIAN_SCRIPT = `
const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
process.stdout.write('ready\\n');
let input = '';
const close = () => { try { fs.closeSync(fd); } catch {} process.exit(0); };
const drain = () => {
  const buffer = Buffer.alloc(1 << 20);
  const started = Date.now();
  let sawWriter = false;
  const tick = () => {
    for (;;) {
      let n;
      try { n = fs.readSync(fd, buffer, 0, buffer.length, null); }
      catch (error) {
        if (error.code === 'EAGAIN') { sawWriter = true; break; }
        return close();
      }
      if (n === 0) {
        if (sawWriter || Date.now() - started > ${LINGER_NO_WRITER_MS}) return close();
        break;
      }
      sawWriter = true;
    }
    setTimeout(tick, 1);
  };
  tick();
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => (input.includes('release') ? close() : drain()));
process.stdin.on('error', drain);
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
 * the guardian sees its standard input close without a release and drains the FIFO until QEMU's
 * dump ends, so QEMU never blocks and the guest resumes. While vmsight lives the guardian never
 * reads, so every byte reaches vmsight's own reader.
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
        child.stdin.end('release\n');
        await exited;
      })();
      return released;
    },
  };
}
