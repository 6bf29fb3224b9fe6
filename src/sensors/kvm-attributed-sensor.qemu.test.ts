import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { GuestEvent } from '../events/index.js';
import { kvmSkipReason } from './_kvm-io-guest-fixture.js';
import {
  SWITCH_ROUNDS,
  SWITCH_TASK_LAYOUT,
  SWITCH_TO,
  TASK_A,
  TASK_B,
  TASK_PORT,
  startSwitchingGuest,
  waitForGuestEnd,
  type SwitchingGuest,
} from './_kvm-switch-guest.js';
import { RamTaskReader } from './guest-task-reader.js';
import { GdbSensor } from './gdb-sensor.js';
import { KvmAttributedSensor } from './kvm-attributed-sensor.js';
import type { Sensor } from './sensor.js';

// Both on a KVM guest of the tests' own with two tasks (_kvm-switch-guest.ts); each test runs the
// guest once to its end. Under kvm_pvm a hardware breakpoint is reported again before its
// instruction runs, so a plain step never leaves it (GdbClient lifts it for the step).
describe(
  'sensors on a KVM guest that switches tasks',
  { skip: kvmSkipReason(), timeout: 300_000 },
  () => {
    const guests: SwitchingGuest[] = [];
    const sensors: Sensor[] = [];
    const track = async (starting: Promise<SwitchingGuest>): Promise<SwitchingGuest> => {
      const guest = await starting;
      guests.push(guest);
      return guest;
    };
    const trackSensor = <T extends Sensor>(sensor: T): T => {
      sensors.push(sensor);
      return sensor;
    };
    /** Starts the sensor (the paused guest runs), collects its events until the guest's end. */
    const runToEnd = async (vm: SwitchingGuest, sensor: Sensor): Promise<GuestEvent[]> => {
      await sensor.start();
      const events: GuestEvent[] = [];
      const stream = sensor.events();
      const consumed = (async () => {
        for await (const event of stream) events.push(event);
      })();
      assert.ok(await waitForGuestEnd(vm.guest, 120_000), 'the guest ran to its end');
      await sensor.stop();
      await consumed;
      return events;
    };
    after(async () => {
      for (const sensor of sensors) await sensor.stop().catch(() => undefined);
      for (const guest of guests) await guest.stop();
    });

    it('stops at every switch with hardware breakpoints and names the next task from guest RAM', async (t) => {
      const vm = await track(startSwitchingGuest());
      const tasks = RamTaskReader.open(vm.ramPath, SWITCH_TASK_LAYOUT);
      const sensor = trackSensor(
        new GdbSensor({
          vm: 'kvm',
          gdb: { port: vm.gdbPort },
          contextSwitch: SWITCH_TO,
          tasks,
        }),
      );
      const events = await runToEnd(vm, sensor);
      const stats = sensor.stats();
      t.diagnostic(
        `hits ${stats.hits}, ${stats.hitsPerSecond.toFixed(0)} hits/s, step retries ${stats.stepRetries}`,
      );
      assert.equal(stats.hits, 2 * SWITCH_ROUNDS);
      assert.equal(stats.dropped, 0);
      // The first switch only sets the current task (there is no "from" yet); each later one is
      // an event naming both sides, alternating B and A.
      const switches = events.filter((event) => event.type === 'context-switch');
      assert.equal(switches.length, 2 * SWITCH_ROUNDS - 1);
      switches.forEach((event, index) => {
        const [to, from] = index % 2 === 0 ? [TASK_B, TASK_A] : [TASK_A, TASK_B];
        assert.equal(event.process?.pid, to.pid, `switch ${index}`);
        assert.equal(event.type === 'context-switch' ? event.from.pid : -1, from.pid);
        assert.equal(event.process?.comm, to.comm);
        assert.equal(event.process?.tgid, to.tgid);
      });
    });

    it('puts every port write on the task that was current on its vCPU', async (t) => {
      const vm = await track(startSwitchingGuest());
      const sensor = trackSensor(
        new KvmAttributedSensor({
          kvm: { vm: 'kvm', qemuPid: vm.guest.pid, monitor: vm.guest.qmp },
          gdb: {
            gdb: { port: vm.gdbPort },
            contextSwitch: SWITCH_TO,
            tasks: RamTaskReader.open(vm.ramPath, SWITCH_TASK_LAYOUT),
          },
        }),
      );
      const events = await runToEnd(vm, sensor);
      const stats = sensor.stats();
      t.diagnostic(JSON.stringify(stats));
      assert.equal(stats.switches, 2 * SWITCH_ROUNDS);
      assert.equal(stats.dropped, 0);
      const writes = events.filter(
        (event) =>
          event.type === 'port-io' && event.port === TASK_PORT && event.direction === 'write',
      );
      assert.equal(writes.length, SWITCH_ROUNDS * (TASK_A.writes + TASK_B.writes));
      // In guest order: A's writes then B's, each on its own task, every round.
      const round = [
        ...Array<typeof TASK_A | typeof TASK_B>(TASK_A.writes).fill(TASK_A),
        ...Array<typeof TASK_A | typeof TASK_B>(TASK_B.writes).fill(TASK_B),
      ];
      writes.forEach((event, index) => {
        const task = round[index % round.length]!;
        assert.equal(event.type === 'port-io' ? event.value : -1, task.value, `write ${index}`);
        assert.equal(event.process?.pid, task.pid, `write ${index} (value ${task.value})`);
        assert.equal(event.process?.comm, task.comm);
      });
    });
  },
);
