import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `vmsight` command as installed, run as a separate process the way users run it. */
export const VMSIGHT_BIN = fileURLToPath(new URL('../../../bin/vmsight.js', import.meta.url));

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `vmsight ...args` and waits for it (at most `timeoutMs`, default 5 minutes). */
export function runVmsight(
  args: readonly string[],
  options: { timeoutMs?: number } = {},
): CliResult {
  const result = spawnSync(process.execPath, [VMSIGHT_BIN, ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
