import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GuestEvent } from '../events/index.js';
import { ensureLabBuilt, startLabVm, type LabVm } from '../lab/index.js';
import { prepareSensorLab, type SensorLab } from './_sensor-lab-guest.js';
import { syscallCensus } from './_syscall-census.js';
import { SYSCALL_PROBE_SOURCE } from './_syscall-programs.js';
import { startTcgCapture } from './_tcg-capture.js';
import { type TcgSensor, tcgSensorQemuArgs } from './tcg-sensor.js';

describe('TcgSensor on the lab guest', { timeout: 240_000 }, () => {
  let lab: SensorLab<LabVm> | undefined;
  let vm: LabVm | undefined;
  let sensor: TcgSensor | undefined;
  let events: GuestEvent[] = [];
  let consumed: Promise<void> | undefined;

  before(async () => {
    lab = await prepareSensorLab({ ensureLabBuilt, startLabVm }, 'sysprobe', SYSCALL_PROBE_SOURCE);
    const { probes: addresses, initTask, layout } = lab;
    vm = await lab.boot({
      // The host switches the sensor on when it sees SYSPROBE-INSTALLED; the sleep gives it time.
      marker: 'SYSPROBE-INSTALLED',
      run: 'sleep 2\n/tmp/sysprobe',
      extraArgs: tcgSensorQemuArgs(addresses),
    });
    const capture = await startTcgCapture(vm, { ...addresses, initTask }, layout);
    sensor = capture.sensor;
    events = capture.events;
    consumed = capture.done;
  });

  after(async () => {
    await sensor?.stop();
    await lab?.close();
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
    const { counts, identities } = syscallCensus(events, pid, fd);
    assert.equal(counts.get('getpid'), 1000);
    assert.equal(counts.get('getppid'), 500);
    assert.equal(counts.get('getuid'), 700);
    assert.equal(counts.get('write'), 300);
    assert.deepEqual(identities, [`sysprobe|/tmp/sysprobe|${pid}`]);
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
