// What the relaunch costs the guest, against lab-notes §9's workaround: a KASLR guest runs a
// getppid loop (rounds of ROUND_CALLS, "ROUND k" after each) timed on the host clock (§9's
// instruction counting makes the guest's own clock follow instructions, so only the host's counts):
// (a) booted plainly, before and after `instrumentLabVmForTcgSensor` (sensor armed, not switched
// on); (b) booted with `-seed 7 -icount shift=0,sleep=off`, what the probing-boot route needs.
// Prints figures; never asserts on time. Run: npm run bench -- tcg-sensor-relaunch
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLabVm, type LabVm } from '../lab/index.js';
import { compileStatic, fwCfgArgs, fwCfgInstall, getppidLoopSource } from '../sensors/internal.js';
import { instrumentLabVmForTcgSensor } from './tcg-sensor-relaunch.js';

const ROUND_CALLS = 100_000;
const WINDOW_MS = 5000;

async function latestRound(vm: LabVm): Promise<number> {
  const text = await readFile(vm.serialPath, 'utf8');
  const rounds = [...text.matchAll(/^ROUND (\d+)\r?$/gm)];
  return Number(rounds.at(-1)?.[1] ?? 0);
}

/** The first new round after now, and when it appeared (polled every 10 ms, bounded). */
async function nextRound(vm: LabVm): Promise<{ round: number; at: number }> {
  const start = await latestRound(vm);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const round = await latestRound(vm);
    if (round > start) return { round, at: performance.now() };
    await sleep(10);
  }
  throw new Error('the guest loop stopped printing rounds');
}

/** getppid calls per second of host time over about WINDOW_MS. */
async function rate(vm: LabVm): Promise<number> {
  const first = await nextRound(vm);
  await sleep(WINDOW_MS);
  const last = await nextRound(vm);
  return ((last.round - first.round) * ROUND_CALLS) / ((last.at - first.at) / 1000);
}

const program = await compileStatic('sysloop', getppidLoopSource(ROUND_CALLS));
const workload = `${fwCfgInstall('sysloop')}\nexec /tmp/sysloop`;
const mega = (n: number): string => `${(n / 1e6).toFixed(2)} M/s`;
try {
  {
    const booted = performance.now();
    let vm = await startLabVm({
      kaslr: true,
      workload,
      extraArgs: fwCfgArgs('sysloop', program.path),
    });
    try {
      const bootMs = performance.now() - booted;
      const before = await rate(vm);
      const moved = await instrumentLabVmForTcgSensor(vm);
      vm = moved.vm;
      const after = await rate(vm);
      const m = moved.migration;
      console.log(
        `relaunch: boot ${bootMs.toFixed(0)} ms, slide 0x${moved.slide.toString(16)} found in ${moved.profileMs} ms, ` +
          `downtime ${m.downtimeMs} ms (total ${m.totalTimeMs} ms, wall ${m.wallMs} ms, ${m.ramTransferredBytes} bytes); ` +
          `getppid ${mega(before)} before, ${mega(after)} after the move`,
      );
    } finally {
      await vm.stop();
    }
  }
  {
    const booted = performance.now();
    const vm = await startLabVm({
      kaslr: true,
      workload,
      extraArgs: [
        '-seed',
        '7',
        '-icount',
        'shift=0,sleep=off',
        ...fwCfgArgs('sysloop', program.path),
      ],
    });
    try {
      const bootMs = performance.now() - booted;
      console.log(
        `-seed 7 -icount shift=0,sleep=off: boot ${bootMs.toFixed(0)} ms, getppid ${mega(await rate(vm))}`,
      );
    } finally {
      await vm.stop();
    }
  }
} finally {
  await program.remove();
}
