// `vmsight watch --sensor`: the refusals that need no VM (unknown sensor, I/O off for the I/O-only
// KVM sensor, the guard without I/O, a model with nothing to score), checked before anything is
// connected, and the I/O-only model set that `watch --sensor kvm --learn` writes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DetectorKind, train, writeModelFile } from '../detectors/index.js';
import { writeVmtrace, type GuestEvent } from '../events/index.js';
import { readModelDirectory, type ModelSet } from './model-directory.js';
import { trainModelDirectory } from './model-learning.js';
import { ModelMonitor } from './model-monitor.js';
import { syscallTokenSpace } from './trace-loading.js';
import { runCli } from './internal-test/watch-sensor-cli.js';
import { watchVm } from './watch-service.js';
import { checkWatchPlan, parseWatchSensorKind, watchSensorCapture } from './watch-sensor.js';

/** The SeaBIOS-like serial and CMOS traffic of a KVM VM, over and over: `count` port accesses. */
function* portTraffic(count: number): Generator<GuestEvent> {
  const ports = [0x3f8, 0x3fd, 0x70, 0x71] as const;
  for (let i = 0; i < count; i += 1) {
    const port = ports[i % ports.length] as number;
    yield {
      type: 'port-io',
      vm: 'kvm',
      vcpu: 0,
      time: null,
      port,
      direction: port === 0x3fd || port === 0x71 ? 'read' : 'write',
      size: 1,
      value: i & 0xff,
    };
  }
}

describe('watch --sensor choices', () => {
  let dir = '';
  let syscallModel = '';
  const stide = train(DetectorKind.stide, [Uint32Array.of(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3)]);
  const syscallSet: ModelSet = { syscalls: stide, io: undefined };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmsight-watch-sensor-'));
    syscallModel = join(dir, 'syscalls.model.json');
    await writeModelFile(syscallModel, stide, syscallTokenSpace('x86-64'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('knows tcg, kvm and gdb, and names them when refusing another', () => {
    for (const kind of ['tcg', 'kvm', 'gdb'] as const)
      assert.equal(parseWatchSensorKind(kind), kind);
    assert.throws(() => parseWatchSensorKind('ebpf'), {
      code: 'INVALID_ARGUMENT',
      message: /Unknown sensor "ebpf": use tcg, kvm, gdb/,
    });
    assert.deepEqual(watchSensorCapture('tcg'), { syscalls: true, io: true });
    assert.deepEqual(watchSensorCapture('tcg', false), { syscalls: true, io: false });
    assert.deepEqual(watchSensorCapture('kvm'), { syscalls: false, io: true });
    assert.deepEqual(watchSensorCapture('gdb'), { syscalls: true, io: false });
  });

  it('refuses what a sensor cannot serve, saying what to do', () => {
    const plan = { io: true, guard: false, models: undefined };
    assert.throws(() => checkWatchPlan('kvm', { ...plan, io: false }), {
      code: 'INVALID_ARGUMENT',
      message: /KVM sensor captures only I\/O .*drop --no-io/,
    });
    assert.throws(() => checkWatchPlan('gdb', { ...plan, guard: true }), {
      message: /needs I\/O events, which the GDB sensor does not capture: drop --guard/,
    });
    assert.throws(() => checkWatchPlan('tcg', { ...plan, io: false, guard: true }), {
      message: /needs I\/O capture: drop --no-io/,
    });
    assert.throws(() => checkWatchPlan('kvm', { ...plan, models: syscallSet, model: 'm' }), {
      message:
        /model "m" and --sensor kvm: it scores system calls, which the KVM sensor does not see .*--sensor kvm --learn/,
    });
    const ioOnly: ModelSet = { syscalls: undefined, io: undefined };
    assert.throws(() => checkWatchPlan('gdb', { ...plan, models: ioOnly }), {
      message: /I\/O-only model set and this capture has no I\/O events/,
    });
    checkWatchPlan('kvm', { ...plan, guard: true, models: ioOnly });
    checkWatchPlan('tcg', { ...plan, guard: true, models: syscallSet });
    checkWatchPlan('gdb', { ...plan, models: syscallSet });
  });

  it('watchVm refuses a system-call model for the KVM sensor before looking for the VM', async () => {
    await assert.rejects(
      async () => {
        for await (const update of watchVm({
          vm: 'no-such-vm',
          sensor: 'kvm',
          model: syscallModel,
        }))
          assert.fail(`unexpected ${update.type}`);
      },
      { code: 'INVALID_ARGUMENT', message: /scores system calls/ },
    );
    // Without the model the next problem is the VM itself.
    await assert.rejects(
      async () => {
        for await (const update of watchVm({ vm: 'no-such-vm', sensor: 'kvm' }))
          assert.fail(`unexpected ${update.type}`);
      },
      { code: 'NOT_FOUND' },
    );
  });

  it('learns an I/O-only model set from a recording without system calls, and applies it', async () => {
    const input = join(dir, 'kvm.vmtrace.jsonl');
    await writeVmtrace(portTraffic(4000), input, { meta: { vm: 'kvm' } });
    const output = join(dir, 'io-models');
    const summary = await trainModelDirectory({ input, output });
    assert.deepEqual(summary.programs, []);
    assert.equal(summary.traces, 0);
    assert.equal(summary.syscallThreshold, undefined);
    assert.equal(summary.ioTokens, 4000);
    assert.equal(summary.ioVocabulary, 4);
    const models = await readModelDirectory(output);
    assert.equal(models.syscalls, undefined);
    assert.ok(models.io !== undefined);
    const monitor = new ModelMonitor(models);
    for (const event of portTraffic(400)) assert.equal(monitor.push(event), undefined);
    const alert = monitor.push({
      type: 'port-io',
      vm: 'kvm',
      vcpu: 0,
      time: null,
      port: 0x3f5,
      direction: 'write',
      size: 1,
      value: 0x42,
    });
    assert.equal(alert?.reason, 'io-new-token');
    assert.deepEqual(alert.window.at(-1), 'pio:3f5:w:1');

    const tooShort = join(dir, 'short.vmtrace.jsonl');
    await writeVmtrace(portTraffic(100), tooShort, { meta: { vm: 'kvm' } });
    await assert.rejects(trainModelDirectory({ input: tooShort, output: join(dir, 'none') }), {
      code: 'INVALID_INPUT',
      message: /no x86-64 system calls of guest processes and only 100 I\/O events/,
    });
  });

  it('the command line refuses an unknown sensor and impossible combinations before any VM', () => {
    const unknown = runCli(['watch', '--vm', 'x', '--sensor', 'ebpf']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Unknown sensor "ebpf": use tcg, kvm, gdb/);
    const noIo = runCli(['watch', '--vm', 'x', '--sensor', 'kvm', '--no-io']);
    assert.equal(noIo.status, 2);
    assert.match(noIo.stderr, /drop --no-io/);
    const guard = runCli(['watch', '--vm', 'x', '--sensor', 'gdb', '--guard']);
    assert.equal(guard.status, 2);
    assert.match(guard.stderr, /GDB sensor does not capture/);
  });
});
