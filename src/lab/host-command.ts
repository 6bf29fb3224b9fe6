import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { VmsightError } from '../core/index.js';

export interface HostCommandOptions {
  /** Bytes written to the command's standard input (then closed). */
  readonly input?: Uint8Array;
  /** Standard output goes to this file instead of being returned. */
  readonly stdoutFile?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Exit statuses treated as success besides 0. */
  readonly okStatuses?: readonly number[];
}

const MAX_CAPTURED_BYTES = 64 * 1024 * 1024;

/**
 * Runs a host tool (apt-get, dpkg-deb, xz…) without a shell and returns its standard output. A
 * missing tool is `DEPENDENCY_MISSING`; a failing one is `IO_ERROR` with the tail of its stderr.
 *
 * @example
 * ```ts
 * import { runHostCommand } from './host-command.js';
 * const out = await runHostCommand('uname', ['-r']);
 * ```
 */
export function runHostCommand(
  command: string,
  args: readonly string[],
  options: HostCommandOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const stderr: Buffer[] = [];
    let fileDone: Promise<void> = Promise.resolve();
    if (options.stdoutFile !== undefined) {
      const file = createWriteStream(options.stdoutFile);
      child.stdout.pipe(file);
      fileDone = new Promise((done, fail) => {
        file.on('finish', done);
        file.on('error', fail);
      });
    } else {
      child.stdout.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes <= MAX_CAPTURED_BYTES) stdout.push(chunk);
      });
    }
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {
      // The tool may exit before reading all input (it failed): its status says why.
    });
    child.stdin.end(options.input === undefined ? undefined : Buffer.from(options.input));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new VmsightError('DEPENDENCY_MISSING', `Cannot run "${command}": it is not installed`, {
              cause: error,
              details: { command },
            })
          : new VmsightError('IO_ERROR', `Cannot run "${command}": ${error.message}`, {
              cause: error,
              details: { command },
            }),
      );
    });
    child.on('close', (status, signal) => {
      fileDone.then(
        () => {
          if (status === 0 || (status !== null && options.okStatuses?.includes(status))) {
            resolve(Buffer.concat(stdout).toString('utf8'));
            return;
          }
          const tail = Buffer.concat(stderr)
            .toString('utf8')
            .trim()
            .split('\n')
            .slice(-5)
            .join(' | ');
          reject(
            new VmsightError(
              'IO_ERROR',
              `Command "${[command, ...args].join(' ')}" failed with ${signal ?? `status ${status}`}: ${tail}`,
              { details: { command, args, status, signal } },
            ),
          );
        },
        (error: unknown) => {
          reject(
            new VmsightError('IO_ERROR', `Cannot write the output of "${command}"`, {
              cause: error,
            }),
          );
        },
      );
    });
  });
}
