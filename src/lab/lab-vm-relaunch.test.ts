import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relaunchArgs } from './lab-vm-relaunch.js';
import type { LabVmState } from './vm-state.js';

const state: LabVmState = {
  name: 'lab',
  pid: 1,
  dir: '/s',
  qmpSocket: '/s/qmp.sock',
  controlSocket: '/s/control.sock',
  ramPath: '/dev/shm/vmsight-lab-1',
  memoryBytes: 256 * 2 ** 20,
  serialPath: '/s/a,b/serial.log',
  kernelVersion: '6.1.0-56-amd64',
  startedAt: '2026-11-22T00:00:00.000Z',
  options: {},
  args: [
    '-m',
    '256M',
    '-serial',
    'file:/s/a,b/serial.log',
    '-qmp',
    'unix:/s/qmp.sock,server=on,wait=off',
    '-qmp',
    'unix:/s/control.sock,server=on,wait=off',
    '-fw_cfg',
    'name=opt/workload,file=/s/workload.sh',
    '-dfilter',
    '0x1+0x1',
  ],
};
const sockets = { qmpSocket: '/s/qmp-1.sock', controlSocket: '/s/control-1.sock' };

void describe('relaunchArgs', () => {
  void it('keeps the machine, moves the QMP sockets, appends to the serial log, waits for the migration', () => {
    assert.deepEqual(relaunchArgs(state, sockets, ['-dfilter', '0x2+0x1', '-D', '/dev/null']), [
      '-m',
      '256M',
      '-chardev',
      'file,id=vmsight-serial,path=/s/a,,b/serial.log,append=on',
      '-serial',
      'chardev:vmsight-serial',
      '-qmp',
      'unix:/s/qmp-1.sock,server=on,wait=off',
      '-qmp',
      'unix:/s/control-1.sock,server=on,wait=off',
      '-fw_cfg',
      'name=opt/workload,file=/s/workload.sh',
      '-dfilter',
      '0x2+0x1',
      '-D',
      '/dev/null',
      '-incoming',
      'defer',
    ]);
  });

  void it('can relaunch a relaunched VM: the appending serial chardev stays, -incoming is not doubled', () => {
    const once = relaunchArgs(state, sockets, []);
    const twice = relaunchArgs(
      { ...state, ...sockets, args: once },
      { qmpSocket: '/s/qmp-2.sock', controlSocket: '/s/control-2.sock' },
      [],
    );
    assert.equal(twice.filter((arg) => arg === '-incoming').length, 1);
    assert.equal(twice.filter((arg) => arg === '-chardev').length, 1);
    assert.ok(twice.includes('unix:/s/control-2.sock,server=on,wait=off'));
    assert.ok(!twice.includes('unix:/s/control-1.sock,server=on,wait=off'));
  });
});
