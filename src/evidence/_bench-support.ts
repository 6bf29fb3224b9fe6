/** Benchmark support: runs the `vmsight` command under GNU time for its wall time and peak RSS. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const VMSIGHT = fileURLToPath(new URL('../../bin/vmsight.js', import.meta.url));

/** `vmsight ARGS…` as users run it: seconds, peak RSS in KiB (GNU time %e %M), exit status. */
export function timeVmsight(args: readonly string[]): {
  seconds: number;
  peakKib: number;
  status: number | null;
} {
  const run = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, VMSIGHT, ...args], {
    encoding: 'utf8',
  });
  const [seconds, peakKib] = (run.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { seconds: seconds ?? NaN, peakKib: peakKib ?? NaN, status: run.status };
}
