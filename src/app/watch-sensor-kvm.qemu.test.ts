// `vmsight watch --sensor kvm` end to end, under real KVM (lab-notes.md §8: kvm_pvm runs a boot
// sector of the test's own making, not the lab kernel). The guest is registered with `vmsight vm
// add --pid` on a QMP socket of its own (the test keeps the fixture's to `cont`/`system_reset`);
// each run re-runs the guest's known sequence of 500 × 18 port and MMIO accesses while watch
// captures it. Checked: the recording holds exactly those accesses in order, nothing dropped,
// the escape guard on by default scanning them without blocking; `--learn` writes an I/O-only
// model set, `--model` applies it and `score --format vmtrace` replays the same alerts; the other
// sensors are refused on this VM with what to do (watch-sensor.test.ts has the other refusals).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readGuestEvents, writeVmtrace, type GuestEvent } from '../events/index.js';
import * as kvmGuest from '../sensors/internal.js';
import type { IoOp, KvmIoGuest } from '../sensors/internal.js';
import { jsonLines, runCli, runCliWhile } from './internal-test/watch-sensor-cli.js';

const REPEAT = 500;
const { IO_SEQUENCE } = kvmGuest;
const skip = kvmGuest.kvmSkipReason() ?? false;
/** The guest's last access, after every repeat: 'K' to COM1. */
const END: IoOp = {
  kind: 'pio',
  direction: 'write',
  size: 1,
  at: kvmGuest.END_PORT,
  value: kvmGuest.END_VALUE,
};

function matches(op: IoOp, event: GuestEvent): boolean {
  if (op.kind === 'pio') {
    return (
      event.type === 'port-io' &&
      event.port === op.at &&
      event.value === op.value &&
      event.direction === op.direction &&
      event.size === op.size
    );
  }
  return (
    event.type === 'mmio' &&
    event.address === BigInt(op.at) &&
    event.value === BigInt(op.value) &&
    event.direction === op.direction &&
    event.size === op.size
  );
}

async function readRecording(path: string): Promise<GuestEvent[]> {
  const events: GuestEvent[] = [];
  for await (const event of readGuestEvents('vmtrace', path)) events.push(event);
  return events;
}

describe(
  'vmsight watch --sensor kvm on a boot-sector KVM guest',
  { skip, timeout: 600_000 },
  () => {
    let guest: KvmIoGuest | undefined;
    let home = '';
    const name = 'kvmio';
    const env = (): NodeJS.ProcessEnv => ({ VMSIGHT_HOME: home });
    /** The first run's events before the guest code (SeaBIOS only): a "normal" without its I/O. */
    let biosOnly: GuestEvent[] = [];

    /** Watches one run with `models` applied and checks that `score` replays the same alerts. */
    async function alertsReplayed(models: string, tag: string): Promise<Record<string, unknown>[]> {
      const record = join(home, `${tag}.vmtrace.jsonl`);
      const live = await watchOneRun(['--model', models, '--record', record, '--no-guard']);
      const alerts = jsonLines(live.stdout).filter((line) => line['type'] === 'alert');
      assert.equal(live.status, alerts.length > 0 ? 1 : 0, live.stderr);
      // prettier-ignore
      const replay = runCli(['score', '--model', models, '--format', 'vmtrace', '--input', record, '--json']);
      const replayed = (JSON.parse(replay.stdout) as { alerts: unknown[] }).alerts;
      assert.deepEqual(replayed, alerts, 'the replay raises the live run’s alerts');
      return alerts;
    }

    /** Runs the guest's sequence once more (from power-on, or `system_reset`) while `args` watch. */
    async function watchOneRun(args: readonly string[]): ReturnType<typeof runCliWhile> {
      assert.ok(guest !== undefined);
      const running = guest;
      return runCliWhile(
        ['watch', '--vm', name, '--sensor', 'kvm', ...args],
        async () => {
          const before = await running.completions();
          const status = (await running.qmp.execute('query-status')) as { status: string };
          await running.qmp.execute(status.status === 'prelaunch' ? 'cont' : 'system_reset');
          const deadline = Date.now() + 120_000;
          while ((await running.completions()) === before && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          assert.equal(await running.completions(), before + 1, 'the guest ran its sequence');
        },
        { env: env() },
      );
    }

    before(async () => {
      home = await mkdtemp(join(tmpdir(), 'vmsight-watch-kvm-'));
      const socket = join(home, 'watch-qmp.sock');
      guest = await kvmGuest.startKvmIoGuest(IO_SEQUENCE, REPEAT, {
        extraArgs: ['-qmp', `unix:${socket},server=on,wait=off`],
      });
      const added = runCli(['vm', 'add', name, '--qmp', socket, '--pid', String(guest.pid)], env());
      assert.equal(added.status, 0, added.stderr);
    });

    after(async () => {
      await guest?.stop();
      await rm(home, { recursive: true, force: true });
    });

    it('records exactly the guest I/O in order, none dropped, with the escape guard scanning it', async () => {
      const record = join(home, 'run.vmtrace.jsonl');
      const run = await watchOneRun(['--record', record]);
      assert.equal(run.status, 0, run.stderr);
      const lines = jsonLines(run.stdout);
      const final = lines.at(-1) as {
        type: string;
        final: boolean;
        sensorKind: string;
        alerts: number;
        topProcesses: unknown[];
        sensor: { delivered: number; dropped: number; ringLost: number; malformed: number };
        guard?: { windows: number };
      };
      assert.equal(final.type, 'stats');
      assert.equal(final.final, true);
      assert.equal(final.sensorKind, 'kvm');
      assert.equal(final.sensor.dropped, 0);
      assert.equal(final.sensor.ringLost, 0);
      assert.equal(final.sensor.malformed, 0);
      assert.equal(final.alerts, 0);
      assert.deepEqual(final.topProcesses, [], 'KVM events name no guest process');
      assert.ok((final.guard?.windows ?? 0) >= (IO_SEQUENCE.length * REPEAT) / 256, 'guard on');
      assert.ok(!lines.some((line) => line['type'] === 'escape'));

      const events = await readRecording(record);
      assert.equal(events.length, final.sensor.delivered, 'every delivered event was recorded');
      assert.ok(events.every((event) => event.vm === name && event.vcpu === 0));
      assert.ok(events.every((event) => event.type === 'port-io' || event.type === 'mmio'));
      const first = events.findIndex((e) => matches(IO_SEQUENCE[0] as IoOp, e));
      const end = events.findIndex((event) => matches(END, event));
      assert.ok(first > 0 && end > first, 'SeaBIOS, then the guest code, then its end marker');
      biosOnly = events.slice(0, first);
      const ours = events.slice(first, end);
      assert.equal(ours.length, IO_SEQUENCE.length * REPEAT, 'exactly the accesses the guest made');
      for (let i = 0; i < ours.length; i += 1) {
        const op = IO_SEQUENCE[i % IO_SEQUENCE.length] as IoOp;
        assert.ok(matches(op, ours[i] as GuestEvent), `event ${i}: ${JSON.stringify(op)}`);
      }
      console.log(
        `# watch --sensor kvm: ${events.length} events recorded (${ours.length} of the guest code), guard windows ${final.guard?.windows}`,
      );
    });

    it('learns an I/O-only model set, applies it live and replays the same alerts', async () => {
      const models = join(home, 'models');
      const learned = await watchOneRun(['--learn', '10m', '-o', models]);
      assert.equal(learned.status, 0, learned.stderr);
      const summary = jsonLines(learned.stdout).at(-1) as {
        type: string;
        programs: string[];
        traces: number;
        ioTokens: number;
        ioVocabulary: number;
      };
      assert.equal(summary.type, 'learned');
      assert.deepEqual(summary.programs, []);
      assert.equal(summary.traces, 0);
      assert.ok(summary.ioTokens > IO_SEQUENCE.length * REPEAT);
      assert.ok(summary.ioVocabulary >= 16);

      // Learned on this guest's own runs: a further normal run is quiet.
      const quiet = await alertsReplayed(models, 'normal');
      assert.deepEqual(quiet, []);

      // Learned on SeaBIOS alone: the guest code's ports and MMIO pages were never seen.
      assert.ok(biosOnly.length > 640, 'the first test kept the SeaBIOS stretch');
      const biosTrace = join(home, 'bios.vmtrace.jsonl');
      await writeVmtrace(biosOnly, biosTrace, { meta: { vm: name } });
      const biosModels = join(home, 'bios-models');
      // prettier-ignore
      const trained = runCli(['train', '--format', 'vmtrace', '--input', biosTrace, '-o', biosModels]);
      assert.equal(trained.status, 0, trained.stderr);
      const alerts = await alertsReplayed(biosModels, 'anomalous');
      const windows = alerts.map((alert) => (alert['window'] as string[]).join(' '));
      assert.ok(
        alerts.some((alert) => alert['reason'] === 'io-new-token') &&
          windows.some((window) => window.includes('pio:250:w:1')),
        `alerts: ${windows.join(' | ')}`,
      );
      assert.ok(alerts.every((alert) => alert['process'] === undefined && alert['model'] === 'io'));
      console.log(
        `# I/O model: ${summary.ioTokens} tokens learned, 0 alerts on a normal re-run; SeaBIOS-only model: ${alerts.length} alerts`,
      );
    });

    it('refuses the TCG and GDB sensors on this VM, saying what to do', () => {
      const tcg = runCli(['watch', '--vm', name, '--duration', '1'], env());
      assert.equal(tcg.status, 2);
      assert.match(
        tcg.stderr,
        /without -dfilter probes: start it with "vmsight lab up --tcg-sensor"/,
      );
      const gdb = runCli(['watch', '--vm', name, '--sensor', 'gdb', '--duration', '1'], env());
      // The GDB sensor takes its breakpoints from the kernel in the VM's memory; a boot sector has none.
      assert.equal(gdb.status, 4, gdb.stderr);
      assert.match(
        gdb.stderr,
        /Cannot watch VM "[^"]+" with --sensor gdb: its kernel's addresses come from its memory, and cannot /,
      );
    });
  },
);
