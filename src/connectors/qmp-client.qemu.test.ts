import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { freeTcpPort, isVmsightError } from '../core/index.js';
import { startLabVm, type LabVm } from '../lab/index.js';
import { startGdbServer, stopGdbServer } from './hmp-gdbserver.js';
import { QmpClient } from './qmp-client.js';
import type { QmpEvent } from './qmp-message.js';

/** Connects to a gdbstub and reads the '+' or packet it answers a `?` with. */
async function gdbStubAnswers(port: number): Promise<void> {
  const socket = createConnection({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    socket.write('$?#3f');
    const [reply] = (await once(socket, 'data')) as [Buffer];
    assert.match(reply.toString('latin1'), /^[+$]/);
  } finally {
    socket.destroy();
  }
}

/** Reads events until one named `name` arrives (the guest may emit others in between). */
async function nextEvent(events: AsyncIterator<QmpEvent>, name: string): Promise<QmpEvent> {
  for (;;) {
    const next = await events.next();
    if (next.done === true) assert.fail(`event stream ended before ${name}`);
    if (next.value.name === name) return next.value;
  }
}

void describe('QmpClient against the real QEMU (lab guest)', { timeout: 300_000 }, () => {
  let vm: LabVm;
  let qmp: QmpClient;

  before(async () => {
    vm = await startLabVm({ name: `qmp-${process.pid}` });
    qmp = await vm.qmp();
  });
  after(async () => {
    await vm?.stop();
  });

  void it('reads the QEMU version from the greeting and the run state', async () => {
    assert.ok(qmp.greeting.version.major >= 7);
    const status = await qmp.execute('query-status');
    assert.equal(status.status, 'running');
    assert.equal(status.running, true);
    const cpus = await qmp.execute('query-cpus-fast');
    assert.equal(cpus.length, 1);
    assert.ok((cpus[0]?.['thread-id'] ?? 0) > 0);
  });

  void it('stops and resumes the guest with STOP and RESUME events', async () => {
    const events = qmp.events();
    try {
      await qmp.execute('stop');
      await nextEvent(events, 'STOP');
      assert.equal((await qmp.execute('query-status')).status, 'paused');
      await qmp.execute('cont');
      const resume = await nextEvent(events, 'RESUME');
      assert.ok(resume.timestampMicros > 0n);
      assert.equal((await qmp.execute('query-status')).running, true);
    } finally {
      await events.return?.();
    }
  });

  void it('passes HMP commands through and shows CR3 in info registers', async () => {
    const registers = await qmp.hmp('info registers');
    assert.match(registers, /RIP=[0-9a-f]{16}/);
    assert.match(registers, /CR3=[0-9a-f]{16}/);
  });

  void it('surfaces QEMU error replies with their class', async () => {
    await assert.rejects(
      qmp.execute('vmsight-no-such-command'),
      (error) =>
        isVmsightError(error, 'CONNECTOR_ERROR') && error.details['class'] === 'CommandNotFound',
    );
    await assert.rejects(
      qmp.execute('dump-guest-memory', {
        paging: false,
        protocol: 'file:/dev/null',
        format: 'kdump-lzo',
      }),
      (error) => isVmsightError(error, 'CONNECTOR_ERROR') && /not available/.test(error.message),
    );
    assert.equal((await qmp.execute('query-status')).running, true);
  });

  void it('opens and closes a gdbstub at run time through HMP gdbserver', async () => {
    const port = await freeTcpPort();
    await startGdbServer(qmp, port);
    try {
      await gdbStubAnswers(port);
      // One gdbstub per VM: a second is refused, with the reason QEMU gave.
      await assert.rejects(
        startGdbServer(qmp, await freeTcpPort()),
        (error) =>
          isVmsightError(error, 'CONNECTOR_ERROR') &&
          /Could not open gdbserver.*already has one/.test(error.message),
      );
    } finally {
      await stopGdbServer(qmp);
    }
    await assert.rejects(gdbStubAnswers(port), /ECONNREFUSED/);
    // QEMU pauses the VM when a debugger connects (gdbstub's CHR_EVENT_OPENED) and leaves it so
    // when the connection drops without a detach: the GDB sensor detaches ('D') to resume it.
    assert.equal((await qmp.execute('query-status')).running, false);
    await qmp.execute('cont');
    assert.equal((await qmp.execute('query-status')).running, true);
  });

  void it('times out at connect while another client holds the socket', async () => {
    await assert.rejects(QmpClient.connect(vm.qmpSocket, { connectTimeoutMs: 300 }), (error) =>
      isVmsightError(error, 'TIMEOUT'),
    );
  });
});
