import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { VmsightError } from '../core/index.js';

const run = promisify(execFile);

/** fcntl(2) commands from include/uapi/linux/fcntl.h: F_LINUX_SPECIFIC_BASE (1024) + 7 and + 8. */
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
/** The smallest capacity Linux gives a pipe: one page (fs/pipe.c rounds up to pages). */
export const MIN_PIPE_CAPACITY = 4096;

/**
 * Perl program: open the FIFO read-write (never blocks on a FIFO, Linux fifo(7)), set the
 * capacity, print the capacity the kernel chose. The numbers are passed in, so no Fcntl module
 * is needed: `perl-base` (Debian Essential) has no Fcntl constants, only the builtin fcntl.
 * `+ 0` makes them numbers: perlfunc fcntl passes a string argument as a pointer to its bytes.
 */
const SET_CAPACITY_PERL =
  'open(my $f, "+<", $ARGV[0]) or die "open: $!\\n";' +
  'fcntl($f, $ARGV[1] + 0, $ARGV[2] + 0) or die "F_SETPIPE_SZ: $!\\n";' +
  'my $size = fcntl($f, $ARGV[3] + 0, 0) or die "F_GETPIPE_SZ: $!\\n";' +
  'print $size + 0;';

/**
 * Sets the buffer capacity of the pipe behind the FIFO at `path` (fcntl F_SETPIPE_SZ, fcntl(2))
 * and returns the capacity the kernel chose (a power-of-two number of pages, at least one).
 *
 * Why: QEMU blocks once the pipe is full, so the capacity bounds how far the guest can run ahead
 * of a reader that reads guest memory for each record (64 KiB by default ≈ 50 register dumps).
 * Node has no fcntl(2), so a one-line Perl program does it: Perl is in every Debian system
 * (`perl-base` is Essential). The capacity belongs to the pipe, not to a file descriptor, and the
 * pipe lives while any end is open, so the caller must already hold the FIFO open (its reader)
 * when this runs, or the setting vanishes with Perl's descriptor.
 *
 * @example
 * ```ts
 * import { setPipeCapacity } from './pipe-capacity.js';
 * await setPipeCapacity('/tmp/vmsight-tcg-x/qemu-log.fifo', 4096); // 4096
 * ```
 */
export async function setPipeCapacity(path: string, bytes: number): Promise<number> {
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Pipe capacity must be a positive integer, got ${bytes}`,
    );
  }
  let stdout: string;
  try {
    ({ stdout } = await run(
      'perl',
      ['-e', SET_CAPACITY_PERL, path, String(F_SETPIPE_SZ), String(bytes), String(F_GETPIPE_SZ)],
      { timeout: 10_000 },
    ));
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim();
    throw new VmsightError(
      'IO_ERROR',
      `Cannot set the capacity of pipe "${path}" to ${bytes} bytes${detail ? `: ${detail}` : ''}`,
      { cause: error },
    );
  }
  const capacity = Number(stdout.trim());
  if (!Number.isSafeInteger(capacity) || capacity < bytes) {
    throw new VmsightError(
      'IO_ERROR',
      `Pipe "${path}" reports capacity "${stdout.trim()}" after asking for ${bytes} bytes`,
    );
  }
  return capacity;
}
