// `vmsight watch --sensor gdb` end to end on the lab guest (TCG, booted with KASLR as Debian
// boots by default, and without a gdbstub): watch opens one through QMP, sets hardware
// breakpoints on __switch_to and entry_SYSCALL_64 at this boot's addresses (found from the
// guest's RAM), and closes the gdbstub again when it stops. The same guest registered with
// `vm add --gdb-port`, as a VM its operator started with -gdb, is watched through that gdbstub,
// which stays open afterwards. A static program built
// on the host now and injected with fw_cfg makes a known number of calls of each kind, in a loop
// of the guest's shell; watch records a few runs, and every call of a run that started after watch
// was capturing must be attributed to that run's pid and program. After watch stops the guest
// runs on; the KVM and TCG sensors are refused on this VM with what to do.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { QmpClient, startGdbServer, stopGdbServer } from '../connectors/index.js';
import { freeTcpPort } from '../core/index.js';
import { readGuestEvents, type GuestEvent } from '../events/index.js';
import { ensureLabBuilt, startLabVm, type LabVm } from '../lab/index.js';
import {
  compileStatic,
  fwCfgArgs,
  fwCfgInstall,
  syscallCensus,
  syscallProbeSource,
  type StaticProgram,
} from '../sensors/internal.js';
import { jsonLines, runCli, runCliWhile } from './internal-test/watch-sensor-cli.js';

/** Calls of each kind per run: a breakpoint per call makes ~130-230 calls/s. */
const N = 20;
const PROGRAM = 'gdbwatch';

describe('vmsight watch --sensor gdb on the lab guest', { timeout: 600_000 }, () => {
  let vm: LabVm | undefined;
  let program: StaticProgram | undefined;
  let dir = '';

  /** A QMP connection of the test's own, closed again: watch needs the VM's socket free. */
  const withQmp = async <T>(use: (qmp: QmpClient) => Promise<T>): Promise<T> => {
    const qmp = await QmpClient.connect(vm?.qmpSocket ?? '');
    try {
      return await use(qmp);
    } finally {
      await qmp.close();
    }
  };

  const probeLines = async (): Promise<string[]> =>
    (await readFile(vm?.serialPath ?? '', 'utf8')).match(/^SYSPROBE pid=\d+ fd=\d+/gm) ?? [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmsight-watch-gdb-'));
    program = await compileStatic(
      PROGRAM,
      syscallProbeSource({ getpid: N, getppid: N, getuid: N, write: N }),
    );
    vm = await startLabVm({
      name: `watchgdb-${process.pid}`,
      kaslr: true,
      workload: `${fwCfgInstall(PROGRAM)}\nwhile :; do /tmp/${PROGRAM}; sleep 1; done`,
      extraArgs: fwCfgArgs(PROGRAM, program.path),
    });
  });

  after(async () => {
    await vm?.stop();
    await program?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('attributes every call of a run to its pid and program, none dropped', async () => {
    assert.ok(vm !== undefined);
    const record = join(dir, 'gdb.vmtrace.jsonl');
    let pid = 0;
    let fd = -1n;
    const run = await runCliWhile(
      ['watch', '--vm', vm.name, '--sensor', 'gdb', '--record', record],
      async () => {
        // The run after the next one started after watch was capturing: all its calls were seen.
        const wanted = (await probeLines()).length + 2;
        const deadline = Date.now() + 300_000;
        let lines = await probeLines();
        while (lines.length < wanted && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          lines = await probeLines();
        }
        const match = /pid=(\d+) fd=(\d+)/.exec(lines[wanted - 1] ?? '');
        assert.ok(match !== null, `only ${lines.length} runs of the program in 300 s`);
        pid = Number(match[1]);
        fd = BigInt(match[2] ?? -1);
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const final = jsonLines(run.stdout).at(-1) as {
      type: string;
      sensorKind: string;
      guard?: unknown;
      sensor: { delivered: number; dropped: number; hits: number; hitsPerSecond: number };
    };
    assert.equal(final.type, 'stats');
    assert.equal(final.sensorKind, 'gdb');
    assert.equal(final.sensor.dropped, 0);
    assert.equal(final.guard, undefined, 'no escape guard without I/O');

    const events: GuestEvent[] = [];
    for await (const event of readGuestEvents('vmtrace', record)) events.push(event);
    assert.equal(events.length, final.sensor.delivered);
    assert.ok(events.every((e) => e.type === 'syscall' || e.type === 'context-switch'));
    const { counts, identities } = syscallCensus(events, pid, fd);
    assert.equal(counts.get('getpid'), N);
    assert.equal(counts.get('getppid'), N);
    assert.equal(counts.get('getuid'), N);
    assert.equal(counts.get('write'), N);
    assert.deepEqual(identities, [`${PROGRAM}|/tmp/${PROGRAM}|${pid}`]);
    // Arguments are read from guest memory while the VM is stopped at the call.
    const own = events.filter((e) => e.type === 'syscall' && e.process?.pid === pid);
    const opened = own.find((e) => e.type === 'syscall' && e.name === 'openat');
    assert.equal(opened?.type === 'syscall' ? opened.path : undefined, '/dev/null');
    const exec = own.find((e) => e.type === 'syscall' && e.name === 'execve');
    assert.equal(exec?.type === 'syscall' ? exec.path : undefined, `/tmp/${PROGRAM}`);
    assert.deepEqual(exec?.type === 'syscall' ? exec.argv : undefined, [`/tmp/${PROGRAM}`]);
    console.log(
      `# watch --sensor gdb: ${events.length} events, ${final.sensor.hits} breakpoint hits at ${final.sensor.hitsPerSecond.toFixed(0)}/s; pid ${pid}: ${JSON.stringify(Object.fromEntries(counts))}`,
    );

    // Watch detached: the guest runs at full speed again (the loop keeps printing).
    await withQmp(async (qmp) => {
      assert.equal(((await qmp.execute('query-status')) as { running: boolean }).running, true);
    });
    const before = (await probeLines()).length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.ok((await probeLines()).length > before, 'the program loop runs on after watch');
    // The gdbstub watch opened is closed: QEMU takes only one, so a new one opens.
    await withQmp(async (qmp) => {
      await startGdbServer(qmp, await freeTcpPort());
      await stopGdbServer(qmp);
    });
  });

  it('watches a registered VM through the gdbstub it was given, and leaves it open', async () => {
    assert.ok(vm !== undefined);
    const home = join(dir, 'home');
    const env = { VMSIGHT_HOME: home };
    const { vmlinux } = await ensureLabBuilt();
    const port = await freeTcpPort();
    // The operator's gdbstub (as -gdb would open it).
    await withQmp((qmp) => startGdbServer(qmp, port));
    try {
      const name = `reg-gdb-${process.pid}`;
      const add = ['vm', 'add', name, '--qmp', vm.qmpSocket, '--ram', vm.ramPath];
      const added = runCli([...add, '--gdb-port', String(port)], env);
      assert.equal(added.status, 0, added.stderr);
      const record = join(dir, 'registered.vmtrace.jsonl');
      const run = runCli(
        [
          ...['watch', '--vm', name, '--sensor', 'gdb', '--vmlinux', vmlinux],
          ...['--duration', '6', '--record', record],
        ],
        env,
      );
      assert.equal(run.status, 0, run.stderr);
      const final = jsonLines(run.stdout).at(-1) as {
        sensorKind: string;
        sensor: { delivered: number; dropped: number; hits: number };
      };
      assert.equal(final.sensorKind, 'gdb');
      assert.ok(final.sensor.hits > 0, 'no breakpoint hit in 6 s');
      assert.equal(final.sensor.dropped, 0);
      // Attributed with the layout and addresses of the kernel profile from --vmlinux.
      const events: GuestEvent[] = [];
      for await (const event of readGuestEvents('vmtrace', record)) events.push(event);
      assert.ok(
        events.some((e) => e.type === 'syscall' && e.process?.comm === PROGRAM),
        `no call of ${PROGRAM} among ${events.length} events`,
      );
      // Still the operator's: vmsight did not close what it did not open.
      await withQmp(async (qmp) => {
        await assert.rejects(startGdbServer(qmp, await freeTcpPort()), /already has one/);
      });
    } finally {
      await withQmp((qmp) => stopGdbServer(qmp));
    }
  });

  it('refuses the KVM and TCG sensors on this VM, saying what to do', () => {
    assert.ok(vm !== undefined);
    const kvm = runCli(['watch', '--vm', vm.name, '--sensor', 'kvm', '--duration', '1']);
    assert.equal(kvm.status, 2);
    assert.match(kvm.stderr, /does not run under KVM .*use --sensor tcg/);
    const tcg = runCli(['watch', '--vm', vm.name, '--duration', '1']);
    assert.equal(tcg.status, 2);
    assert.match(tcg.stderr, /without -dfilter probes/);
  });
});
