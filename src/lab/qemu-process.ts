import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { VmsightError } from '../core/index.js';
import { QEMU_BINARY } from './qemu-command.js';

export interface QemuExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** A QEMU child process, from the moment it was spawned. */
export interface QemuProcess {
  readonly pid: number;
  /** `listener` gets QEMU's exit; at once if it has already exited. Replaces any earlier listener. */
  onExit(listener: (exit: QemuExit) => void): void;
}

export interface SpawnQemuOptions {
  /** QEMU's stdout and stderr go here. */
  readonly logPath: string;
  /** Append to the log instead of truncating it (a relaunched VM keeps one log). */
  readonly appendLog?: boolean;
  /** Let QEMU outlive this Node process. */
  readonly detach?: boolean;
}

/**
 * Spawns `qemu-system-x86_64 args` and resolves once it runs. The exit listener is installed before
 * anything else happens: a QEMU that rejects its options exits within milliseconds.
 */
export async function spawnQemu(
  args: readonly string[],
  options: SpawnQemuOptions,
): Promise<QemuProcess> {
  const log = openSync(options.logPath, options.appendLog === true ? 'a' : 'w');
  const child = (() => {
    try {
      return spawn(QEMU_BINARY, args, {
        stdio: ['ignore', log, log],
        detached: options.detach === true,
      });
    } finally {
      closeSync(log);
    }
  })();
  let exit: QemuExit | undefined;
  let listener: ((exit: QemuExit) => void) | undefined;
  child.once('exit', (code, signal) => {
    exit = { code, signal };
    listener?.(exit);
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? -1));
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new VmsightError(
              'DEPENDENCY_MISSING',
              `Cannot run "${QEMU_BINARY}": it is not installed: run "vmsight lab build --install" as root`,
              { cause: error },
            )
          : new VmsightError('IO_ERROR', `Cannot run "${QEMU_BINARY}": ${error.message}`, {
              cause: error,
            }),
      );
    });
  });
  if (options.detach === true) child.unref();
  return {
    pid,
    onExit(next) {
      listener = next;
      if (exit !== undefined) next(exit);
    },
  };
}
