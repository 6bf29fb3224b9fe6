import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PerProgramModel } from '../detectors/index.js';
import type { GuestProcess, SyscallEvent } from '../events/index.js';
import { SyscallTable } from '../events/index.js';
import { SyscallAlerter } from './syscall-alerter.js';

const TABLE = SyscallTable.for('x86-64');
const LS: GuestProcess = { pid: 7, tgid: 7, comm: 'exe', programKey: 'ls' };
const CAT: GuestProcess = { pid: 8, tgid: 8, comm: 'cat', programKey: '/bin/cat' };

const call = (process: GuestProcess, name: string): SyscallEvent => {
  const nr = TABLE.number(name) ?? -1;
  return { type: 'syscall', vm: 'lab', vcpu: 0, time: null, abi: 'x86-64', nr, name, process };
};

const NORMAL_LS = ['openat', 'getdents64', 'getdents64', 'close', 'write', 'exit_group'];
const trace = (names: readonly string[]): Uint32Array =>
  Uint32Array.from(names.map((name) => TABLE.number(name) ?? 0));

describe('SyscallAlerter', () => {
  const model = PerProgramModel.train(
    'stide',
    new Map([['ls', [trace(NORMAL_LS.concat(NORMAL_LS))]]]),
    {
      minTraces: 1,
      detector: { n: 3 },
    },
  );

  it('stays quiet on the sequences the program was trained on', () => {
    const alerter = new SyscallAlerter(model, { warmupCalls: 0 });
    for (const name of NORMAL_LS.concat(NORMAL_LS))
      assert.equal(alerter.push(call(LS, name)), undefined);
  });

  it('alerts with the process, the model, the decoded window and the scores', () => {
    const alerter = new SyscallAlerter(model, { warmupCalls: 0, windowLength: 4, minAnomalous: 1 });
    const alerts = [...NORMAL_LS, 'openat', 'read', 'socket', 'connect', 'dup2', 'execve']
      .map((name) => alerter.push(call(LS, name)))
      .filter((alert) => alert !== undefined);
    assert.equal(alerts.length, 1, 'one alert, then quiet for quietCalls');
    const alert = alerts[0];
    assert.equal(alert?.process, LS);
    assert.equal(alert?.model, 'ls');
    // (exit_group, openat, read) is the first 3-call window the training trace never had.
    assert.deepEqual(alert?.window, ['write', 'exit_group', 'openat', 'read']);
    assert.equal(alert?.windowScore, 1);
    assert.equal(alert?.threshold, undefined);
    assert.equal(alert?.reason, 'sequence');
  });

  it('lets a known program vary by one swapped pair, and alerts on a run of foreign calls', () => {
    const swapped = [...NORMAL_LS.slice(0, 2), 'close', 'getdents64', ...NORMAL_LS.slice(4)];
    const quiet = new SyscallAlerter(model, { warmupCalls: 0 });
    const swappedAlerts = [...NORMAL_LS, ...swapped, ...NORMAL_LS]
      .map((name) => quiet.push(call(LS, name)))
      .filter((alert) => alert !== undefined);
    assert.deepEqual(swappedAlerts, [], 'one local change is within normal variation');
    const injected = ['socket', 'connect', 'dup2', 'dup2', 'dup2', 'execve', 'brk', 'mmap'];
    const loud = new SyscallAlerter(model, { warmupCalls: 0 });
    const alerts = [...NORMAL_LS, ...injected, ...injected]
      .map((name) => loud.push(call(LS, name)))
      .filter((alert) => alert !== undefined);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.reason, 'sequence');
    assert.equal(alerts[0]?.model, 'ls');
  });

  it('scores a program without a model of its own with the fallback, after the warm-up', () => {
    const alerter = new SyscallAlerter(model, { warmupCalls: 3 });
    const results = ['socket', 'connect', 'dup2', 'dup2', 'execve'].map((name) =>
      alerter.push(call(CAT, name)),
    );
    assert.deepEqual(results.slice(0, 3), [undefined, undefined, undefined]);
    const alert = results.find((result) => result !== undefined);
    assert.equal(alert?.model, 'fallback');
    assert.equal(alert?.reason, 'unknown-program');
    assert.equal(alert?.process.programKey, '/bin/cat');
  });

  it('ignores syscalls that carry no process', () => {
    const alerter = new SyscallAlerter(model, { warmupCalls: 0 });
    const { process: _process, ...anonymous } = call(LS, 'socket');
    assert.equal(alerter.push(anonymous), undefined);
  });
});
