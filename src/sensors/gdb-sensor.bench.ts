// GdbSensor breakpoint rates on the lab guest under TCG, on the host clock: a static program
// makes getppid() in rounds and prints "ROUND k" after each. Measured: the guest's syscall rate
// with no sensor, with the attribution-only sensor (Z1 on __switch_to) and with the syscall
// breakpoint too (Z1 on entry_SYSCALL_64), and the sensor's hits/s in each mode.
// Prints figures; never asserts on time. Run: npm run bench -- gdb-sensor
import { readFile } from 'node:fs/promises';
import { ensureLabBuilt, startLabVm } from '../lab/index.js';
import { prepareSensorLab } from './_sensor-lab-guest.js';
import { getppidLoopSource } from './_syscall-programs.js';
import { GdbSensor } from './gdb-sensor.js';
import { RamTaskReader } from './guest-task-reader.js';

const ROUND_CALLS = 50_000;
const WINDOW_MS = 5000;

const lab = await prepareSensorLab(
  { ensureLabBuilt, startLabVm },
  'gdbloop',
  getppidLoopSource(ROUND_CALLS),
);
const { probes, initTask, layout } = lab;
try {
  const vm = await lab.boot({ gdb: true, marker: 'GDBLOOP-START', run: 'exec /tmp/gdbloop' });
  const rounds = async (): Promise<number> =>
    Number(
      [...(await readFile(vm.serialPath, 'utf8')).matchAll(/^ROUND (\d+)$/gm)].at(-1)?.[1] ?? 0,
    );
  /** Guest getppid/s over the window, from ROUND lines (coarse: ±1 round). */
  const guestRate = async (): Promise<number> => {
    const before = await rounds();
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    return (((await rounds()) - before) * ROUND_CALLS) / ((Date.now() - started) / 1000);
  };
  await new Promise((resolve) => setTimeout(resolve, 2000));
  console.log(`sensor off: guest ${(await guestRate()).toFixed(0)} getppid/s`);
  for (const mode of ['attribution (__switch_to)', 'attribution + syscalls'] as const) {
    const sensor = new GdbSensor({
      vm: 'lab',
      gdb: { port: vm.gdbPort ?? 0 },
      contextSwitch: probes.contextSwitch ?? 0n,
      ...(mode === 'attribution + syscalls' ? { syscallEntry: probes.syscallEntry } : {}),
      tasks: RamTaskReader.open(vm.ramPath, layout, { initTask }),
    });
    await sensor.start();
    let events = 0;
    const consumer = (async () => {
      for await (const _event of sensor.events()) events += 1;
    })();
    const hitsBefore = sensor.stats().hits;
    const started = Date.now();
    // Syscall-breakpoint mode is far below one ROUND per window: count hits instead.
    const rate = mode === 'attribution + syscalls' ? undefined : await guestRate();
    if (rate === undefined) await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const hits = sensor.stats().hits - hitsBefore;
    const seconds = (Date.now() - started) / 1000;
    await sensor.stop();
    await consumer;
    console.log(
      `${mode}: ${(hits / seconds).toFixed(0)} hits/s${rate === undefined ? '' : `, guest ${rate.toFixed(0)} getppid/s`}; ${events} events, ${JSON.stringify(sensor.stats())}`,
    );
  }
  console.log(`sensor off again: guest ${(await guestRate()).toFixed(0)} getppid/s`);
} finally {
  await lab.close();
}
