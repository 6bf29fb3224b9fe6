import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { VmsightError } from '../core/index.js';
import {
  ensureLabBuilt,
  isVmProcessAlive,
  readVmState,
  relaunchLabVmWith,
  startLabVm,
  type LabVm,
} from '../lab/index.js';
import { tcgSensorQemuArgs } from '../sensors/index.js';
import {
  compileStatic,
  fwCfgArgs,
  fwCfgInstall,
  labTaskLayout,
  PROBE_CALLS,
  startTcgCapture,
  type TcgCapture,
  SYSCALL_PROBE_SOURCE,
  syscallCensus,
  type StaticProgram,
} from '../sensors/internal.js';
import { instrumentLabVmForTcgSensor, type InstrumentedLabVm } from './tcg-sensor-relaunch.js';

// The guest cannot be told when the host is ready (its console is write-only), so one shell ticks
// for a fixed number of rounds, printing its pid and uptime (the same process and clock on both
// sides of the move), then runs the probe: the host moves it at TICK 5 and switches the sensor on
// long before PROBE_AT.
const PROBE_AT = 150;
const WORKLOAD = [
  fwCfgInstall('sysprobe'),
  'i=0',
  `while [ $i -lt ${PROBE_AT} ]; do i=$((i+1)); echo "TICK $i $$ $(cut -d' ' -f1 /proc/uptime)"; sleep 0.1; done`,
  '/tmp/sysprobe',
  'echo "TICK-END $$"',
].join('\n');

interface Tick {
  readonly n: number;
  readonly shell: number;
  readonly uptime: number;
}

function ticks(serialPath: string): Tick[] {
  const out: Tick[] = [];
  for (const line of readFileSync(serialPath, 'utf8').split('\n')) {
    const match = /^TICK (\d+) (\d+) ([\d.]+)/.exec(line);
    if (match !== null)
      out.push({ n: Number(match[1]), shell: Number(match[2]), uptime: Number(match[3]) });
  }
  return out;
}

describe('a KASLR lab guest moved into a QEMU with the TCG sensor', { timeout: 300_000 }, () => {
  let vm: LabVm | undefined;
  let oldPid = 0;
  let program: StaticProgram | undefined;
  let capture: TcgCapture | undefined;
  let instrumented: InstrumentedLabVm | undefined;
  let ticksBefore: Tick[] = [];
  let failedMove: unknown;
  let pidAfterFailure: number | undefined;
  let filesAfterFailure: string[] = [];

  before(async () => {
    const artifacts = await ensureLabBuilt();
    const layout = await labTaskLayout(artifacts.vmlinux);
    program = await compileStatic('sysprobe', SYSCALL_PROBE_SOURCE);
    const booted = Date.now();
    vm = await startLabVm({
      kaslr: true,
      workload: WORKLOAD,
      // fw_cfg files are part of the machine: the new QEMU inherits this command line.
      extraArgs: fwCfgArgs('sysprobe', program.path),
    });
    const bootMs = Date.now() - booted;
    oldPid = vm.pid;
    await vm.waitForSerial(/^TICK 5 /, 60_000);
    // A destination that cannot start must leave the source as it was.
    failedMove = await relaunchLabVmWith(vm, ['-dfilter', 'not-an-address']).then(
      () => new Error('the move succeeded'),
      (error: unknown) => error,
    );
    pidAfterFailure = (await readVmState(vm.name))?.pid;
    filesAfterFailure = await readdir(vm.dir);
    ticksBefore = ticks(vm.serialPath);
    instrumented = await instrumentLabVmForTcgSensor(vm);
    vm = instrumented.vm;
    const m = instrumented.migration;
    console.log(
      `boot to GUEST-READY ${bootMs} ms; slide 0x${instrumented.slide.toString(16)} found in ${instrumented.profileMs} ms; ` +
        `migration: downtime ${m.downtimeMs} ms, total ${m.totalTimeMs} ms, setup ${m.setupTimeMs} ms, ` +
        `${m.ramTransferredBytes} bytes sent, relaunch wall ${m.wallMs} ms`,
    );
    capture = await startTcgCapture(vm, instrumented.addresses, layout);
  });

  after(async () => {
    await capture?.sensor.stop();
    await vm?.stop();
    await program?.remove();
  });

  it('left the source running when the new QEMU could not start', () => {
    assert.ok(failedMove instanceof VmsightError, String(failedMove));
    assert.equal(failedMove.code, 'CONNECTOR_ERROR');
    assert.equal(pidAfterFailure, oldPid);
    assert.deepEqual(filesAfterFailure.filter((file) => file.endsWith('.sock')).sort(), [
      'control.sock',
      'qmp.sock',
    ]);
    assert.ok(ticksBefore.length >= 5);
  });

  it('found a non-zero slide and moved the guest to a new QEMU with those probes', async () => {
    assert.ok(vm !== undefined && instrumented !== undefined);
    assert.notEqual(instrumented.slide, 0n);
    assert.equal(instrumented.slide % (2n << 20n), 0n);
    assert.notEqual(vm.pid, oldPid);
    assert.equal(isVmProcessAlive({ pid: oldPid, controlSocket: '' }), false);
    const state = await readVmState(vm.name);
    assert.equal(state?.pid, vm.pid);
    const dfilter = state?.args[state.args.indexOf('-dfilter') + 1];
    assert.equal(dfilter, tcgSensorQemuArgs(instrumented.addresses)[1]);
    // x-ignore-shared: the RAM stayed in the file, only device state crossed.
    assert.ok(instrumented.migration.ramTransferredBytes < 16 << 20);
    assert.ok(instrumented.migration.downtimeMs < 1000);
  });

  it('keeps the same guest running: the same shell, its counter and uptime go on', async () => {
    assert.ok(vm !== undefined);
    await vm.waitForSerial(new RegExp(`^TICK ${ticksBefore.length + 20} `), 60_000);
    const all = ticks(vm.serialPath);
    assert.ok(ticksBefore.length >= 5);
    assert.deepEqual(
      all.map((t) => t.n),
      all.map((_, i) => i + 1),
      'every tick once, in order, no restart',
    );
    assert.deepEqual([...new Set(all.map((t) => t.shell))], [ticksBefore[0]?.shell]);
    for (let i = 1; i < all.length; i++) {
      assert.ok(
        (all[i]?.uptime ?? 0) >= (all[i - 1]?.uptime ?? Infinity),
        'uptime never goes back',
      );
    }
  });

  it('attributes exactly the calls the program made to its pid and program, with no drops', async () => {
    assert.ok(vm !== undefined && capture !== undefined);
    const line = await vm.waitForSerial(/^SYSPROBE pid=\d+/, 180_000);
    await vm.waitForSerial(/^GUEST-DONE rc=0/, 60_000);
    // QEMU powers off after GUEST-DONE; its exit closes the FIFO and ends the stream.
    await capture.done;
    const match = /pid=(\d+) fd=(\d+)/.exec(line);
    const pid = Number(match?.[1]);
    const census = syscallCensus(capture.events, pid, BigInt(match?.[2] ?? -1));
    assert.deepEqual(
      Object.fromEntries(Object.keys(PROBE_CALLS).map((name) => [name, census.counts.get(name)])),
      PROBE_CALLS,
    );
    assert.deepEqual(census.identities, [`sysprobe|/tmp/sysprobe|${pid}`]);
    const stats = capture.sensor.stats();
    assert.equal(stats.dropped, 0);
    assert.equal(stats.malformed, 0);
    // Not `unattributed`: the sensor starts while the ticking shell forks `cut` and `sleep`, and a
    // call made before the first context switch by one that has exited by parse time has no owner.
    assert.equal(stats.delivered, stats.seen);
  });
});
