import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GuestEvent } from '../events/index.js';
import { ensureLabBuilt, startLabVm, type LabVm } from '../lab/index.js';
import {
  compileStatic,
  fwCfgArgs,
  fwCfgInstall,
  labTaskLayout,
  probeLabAddresses,
  type StaticProgram,
} from './_sensor-lab-fixture.js';
import { SYSCALL_PROBE_SOURCE } from './_syscall-programs.js';
import { startTcgCapture } from './_tcg-capture.js';
import { type TcgSensor, tcgSensorQemuArgs } from './tcg-sensor.js';

describe('TcgSensor on the lab guest', { timeout: 240_000 }, () => {
  let vm: LabVm | undefined;
  let program: StaticProgram | undefined;
  let sensor: TcgSensor | undefined;
  let events: GuestEvent[] = [];
  let consumed: Promise<void> | undefined;

  before(async () => {
    const artifacts = await ensureLabBuilt();
    const { probes: addresses, initTask } = await probeLabAddresses((options) =>
      startLabVm(options),
    );
    const layout = await labTaskLayout(artifacts.vmlinux);
    program = await compileStatic('sysprobe', SYSCALL_PROBE_SOURCE);
    vm = await startLabVm({
      // The host switches the sensor on when it sees SYSPROBE-INSTALLED; the sleep gives it time.
      workload: `${fwCfgInstall('sysprobe')}\necho SYSPROBE-INSTALLED\nsleep 2\n/tmp/sysprobe`,
      extraArgs: [...tcgSensorQemuArgs(addresses), ...fwCfgArgs('sysprobe', program.path)],
    });
    await vm.waitForSerial(/^SYSPROBE-INSTALLED/, 60_000);
    const capture = await startTcgCapture(vm, { ...addresses, initTask }, layout);
    sensor = capture.sensor;
    events = capture.events;
    consumed = capture.done;
  });

  after(async () => {
    await sensor?.stop();
    await vm?.stop();
    await program?.remove();
  });

  it('attributes exactly the calls the program made to its pid and program, with no drops', async () => {
    assert.ok(vm !== undefined && sensor !== undefined && consumed !== undefined);
    const line = await vm.waitForSerial(/^SYSPROBE pid=\d+/, 120_000);
    await vm.waitForSerial(/^GUEST-DONE rc=0/, 60_000);
    // QEMU powers off after GUEST-DONE; its exit closes the FIFO and ends the stream.
    await consumed;
    const match = /pid=(\d+) fd=(\d+)/.exec(line);
    const pid = Number(match?.[1]);
    const fd = BigInt(match?.[2] ?? -1);
    const counts = new Map<string, number>();
    const comms = new Set<string>();
    for (const event of events) {
      if (event.type !== 'syscall' || event.process?.pid !== pid) continue;
      const name =
        event.name === 'write' && event.args?.[0] !== fd ? 'write-other' : (event.name ?? '?');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (event.name === 'getpid')
        comms.add(`${event.process.comm}|${event.process.programKey}|${event.process.tgid}`);
    }
    assert.equal(counts.get('getpid'), 1000);
    assert.equal(counts.get('getppid'), 500);
    assert.equal(counts.get('getuid'), 700);
    assert.equal(counts.get('write'), 300);
    assert.deepEqual([...comms], [`sysprobe|/tmp/sysprobe|${pid}`]);
    const stats = sensor.stats();
    assert.equal(stats.dropped, 0);
    assert.equal(stats.malformed, 0);
    assert.equal(stats.unattributed, 0);
    assert.equal(stats.delivered, stats.seen);
    assert.ok(events.some((event) => event.type === 'context-switch'));
    assert.ok(
      events.some(
        (event) => event.type === 'port-io' && event.port >= 0x3f8 && event.port <= 0x3ff,
      ),
    );
  });
});
