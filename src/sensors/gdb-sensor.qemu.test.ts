// GdbSensor on the lab guest under TCG: hardware breakpoints on __switch_to and entry_SYSCALL_64
// over QEMU's gdbstub. Same completeness check as the TCG sensor's test, scaled to N calls of each
// kind (a breakpoint per syscall runs at ~230 hits/s, lab-notes §4); then stop() must leave the
// guest running at full speed with no breakpoint armed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { GuestEvent } from '../events/index.js';
import { ensureLabBuilt, startLabVm, type LabVm } from '../lab/index.js';
import { prepareSensorLab, type SensorLab } from './_sensor-lab-guest.js';
import { GdbSensor } from './gdb-sensor.js';
import { RamTaskReader } from './guest-task-reader.js';
import { syscallCensus } from './_syscall-census.js';

const N = 50;
/** getppid calls between two `TICK` lines of the spinner (~0.1 s at TCG's full speed). */
const TICK_CALLS = 100_000;

// N calls of each kind through syscall(2) (libc caches nothing then), then the spinner's loop.
const PROGRAM_SOURCE = `
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  int fd = open("/dev/null", O_WRONLY);
  long pid = 0;
  for (int i = 0; i < ${N}; i++) pid = syscall(SYS_getpid);
  for (int i = 0; i < ${N}; i++) syscall(SYS_getppid);
  for (int i = 0; i < ${N}; i++) syscall(SYS_getuid);
  for (int i = 0; i < ${N}; i++) write(fd, "x", 1);
  printf("GDBPROBE pid=%ld fd=%d\\n", pid, fd);
  fflush(stdout);
  for (long tick = 1;; tick++) {
    for (int i = 0; i < ${TICK_CALLS}; i++) syscall(SYS_getppid);
    printf("TICK %ld\\n", tick);
    fflush(stdout);
  }
}
`;

const ticks = async (vm: LabVm): Promise<number> =>
  ((await readFile(vm.serialPath, 'utf8')).match(/^TICK \d+/gm) ?? []).length;

describe('GdbSensor on the lab guest (TCG)', { timeout: 420_000 }, () => {
  let lab: SensorLab<LabVm> | undefined;
  let vm: LabVm | undefined;
  let sensor: GdbSensor | undefined;
  const events: GuestEvent[] = [];
  let consumed: Promise<void> | undefined;

  before(async () => {
    lab = await prepareSensorLab({ ensureLabBuilt, startLabVm }, 'gdbprobe', PROGRAM_SOURCE);
    const { probes, initTask, layout } = lab;
    vm = await lab.boot({ gdb: true, marker: 'GDBPROBE-INSTALLED', run: 'sleep 1\n/tmp/gdbprobe' });
    sensor = new GdbSensor({
      vm: 'lab',
      gdb: { port: vm.gdbPort ?? 0 },
      contextSwitch: probes.contextSwitch ?? 0n,
      syscallEntry: probes.syscallEntry,
      tasks: RamTaskReader.open(vm.ramPath, layout, { initTask }),
    });
    await sensor.start();
    const stream = sensor.events();
    consumed = (async () => {
      for await (const event of stream) events.push(event);
    })();
  });

  after(async () => {
    await sensor?.stop().catch(() => undefined);
    await lab?.close();
  });

  it('attributes exactly the calls the program made to its pid and program, with no drops', async () => {
    assert.ok(vm !== undefined && sensor !== undefined && consumed !== undefined);
    const line = await vm.waitForSerial(/^GDBPROBE pid=\d+/, 300_000);
    const match = /pid=(\d+) fd=(\d+)/.exec(line);
    const pid = Number(match?.[1]);
    const fd = BigInt(match?.[2] ?? -1);
    // The program is in its spinner loop now; every call before the printf was already stopped on.
    await sensor.stop();
    await consumed;
    const { counts, identities } = syscallCensus(events, pid, fd);
    assert.equal(counts.get('getpid'), N);
    assert.equal(counts.get('getuid'), N);
    assert.equal(counts.get('write'), N);
    // getppid: N before the printf, then the spinner's until stop().
    assert.ok((counts.get('getppid') ?? 0) >= N);
    assert.deepEqual(identities, [`gdbprobe|/tmp/gdbprobe|${pid}`]);
    const stats = sensor.stats();
    assert.equal(stats.dropped, 0);
    assert.equal(stats.delivered, stats.seen);
    assert.ok(events.some((event) => event.type === 'context-switch'));
    assert.ok(events.every((event) => event.time !== null));
    console.log(
      `# GDB sensor: ${stats.hits} breakpoint hits, ${stats.hitsPerSecond.toFixed(0)} hits/s, ${stats.unattributed} unattributed, ${stats.stepRetries} step retries`,
    );
  });

  it('stop() leaves the guest running at full speed with no breakpoint armed', async () => {
    assert.ok(vm !== undefined && sensor !== undefined);
    await sensor.stop();
    const qmp = await vm.qmp();
    assert.equal(((await qmp.execute('query-status')) as { running: boolean }).running, true);
    // With a breakpoint left on entry_SYSCALL_64 the spinner would make ~230 calls/s (one TICK
    // per ~7 minutes); at full speed it prints several per second.
    const first = await ticks(vm);
    const startedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const made = (await ticks(vm)) - first;
    const perSecond = (made * TICK_CALLS) / ((Date.now() - startedAt) / 1000);
    console.log(`# after stop: ${perSecond.toFixed(0)} getppid/s in the guest`);
    assert.ok(made >= 3, `only ${made} TICK lines in 3 s after stop()`);
  });
});
