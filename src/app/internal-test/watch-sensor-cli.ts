/**
 * Test support for the `watch --sensor` end-to-end tests: the `vmsight` command run as users run
 * it, either to completion or in the background while the test drives the guest.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const VMSIGHT_BIN = fileURLToPath(new URL('../../../bin/vmsight.js', import.meta.url));

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `vmsight ...args` to completion. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const result = spawnSync(process.execPath, [VMSIGHT_BIN, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Starts `vmsight ...args` (a `watch`), waits for its first JSON stats line (the sensor is
 * capturing by then), runs `during`, then stops it with SIGINT as Ctrl-C would and returns its
 * output. The child is killed if anything fails or it outlives `timeoutMs`.
 */
export async function runCliWhile(
  args: readonly string[],
  during: () => Promise<void>,
  options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, [VMSIGHT_BIN, ...args], {
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  try {
    const capturing = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (/^\{"type":"stats"/m.test(stdout)) resolve();
      });
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
      });
      void exited.then((code) =>
        reject(new Error(`vmsight exited (${String(code)}) before capturing:\n${stderr}`)),
      );
    });
    await capturing;
    await during();
    child.kill('SIGINT');
    const status = await exited;
    return { status, stdout, stderr };
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

/** The JSON lines of a `--json` run. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
