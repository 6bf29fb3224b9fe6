import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { labPaths, startLabVm, type LabVm } from '../lab/index.js';
import { layerEnd } from '../layers/index.js';
import { openIntrospection } from './introspection-service.js';
import { addVm, listRegisteredVms, removeVm, resolveVm } from './vm-registry.js';

/** Just enough of a QMP server to be registered: the greeting, then `{"return": {}}` to anything. */
function fakeQmp(path: string): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write(
      '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}}\r\n',
    );
    socket.on('data', (chunk: Buffer) => {
      for (const line of chunk
        .toString()
        .split('\n')
        .filter((l) => l !== '')) {
        const { id } = JSON.parse(line) as { id: string };
        socket.write(`${JSON.stringify({ return: {}, id })}\r\n`);
      }
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

void describe('VM registry and resolveVm', { timeout: 300_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'vmsight-home-'));
  const previousHome = process.env['VMSIGHT_HOME'];
  const realLab = labPaths().root;
  let server: Server;
  let vm: LabVm;

  before(async () => {
    // A private registry, but the shared lab (cached guest, lab VM state) through a symlink.
    symlinkSync(realLab, join(home, 'lab'));
    process.env['VMSIGHT_HOME'] = home;
    server = await fakeQmp(join(home, 'qmp.sock'));
    vm = await startLabVm({ name: `reg-${process.pid}` });
  });
  after(async () => {
    await vm?.stop();
    await new Promise((resolve) => server?.close(resolve));
    if (previousHome === undefined) delete process.env['VMSIGHT_HOME'];
    else process.env['VMSIGHT_HOME'] = previousHome;
    rmSync(home, { recursive: true, force: true });
  });

  void it('registers an external QEMU after checking its QMP socket, and resolves it', async () => {
    const ram = join(home, 'ram');
    writeFileSync(ram, Buffer.alloc(4096));
    const added = await addVm('ext', { qmpSocket: join(home, 'qmp.sock'), ramPath: ram });
    assert.deepEqual(added, {
      name: 'ext',
      source: 'registered',
      qmpSocket: join(home, 'qmp.sock'),
      ramPath: ram,
      memoryBytes: 4096,
    });
    const resolved = await resolveVm('ext');
    assert.equal(resolved.source, 'registered');
    assert.equal(resolved.ramPath, ram);
    assert.deepEqual(
      (await listRegisteredVms()).map((v) => v.name),
      ['ext'],
    );
    await addVm('bypid', { qmpSocket: join(home, 'qmp.sock'), pid: process.pid, gdbPort: 1234 });
    assert.equal((await resolveVm('bypid')).pid, process.pid);
    // The gdbstub's port is kept for watch --sensor gdb; a VM registered without one has none.
    assert.equal((await resolveVm('bypid')).gdbPort, 1234);
    assert.equal(resolved.gdbPort, undefined);
    await removeVm('bypid');
    await removeVm('ext');
    assert.deepEqual(await listRegisteredVms(), []);
  });

  void it('resolves a running lab VM by name', async () => {
    const resolved = await resolveVm(vm.name);
    assert.equal(resolved.source, 'lab');
    assert.equal(resolved.qmpSocket, vm.qmpSocket);
    assert.equal(resolved.ramPath, vm.ramPath);
    assert.equal(resolved.pid, vm.pid);
    assert.equal(resolved.memoryBytes, vm.memoryBytes);
  });

  void it('introspects a VM registered by its QEMU pid alone, sized by QMP query-memdev', async () => {
    await addVm('labpid', { qmpSocket: vm.qmpSocket, pid: vm.pid });
    try {
      const opened = await openIntrospection({ vm: 'labpid' });
      try {
        assert.match(opened.profile.banner, /^Linux version /);
        assert.equal(layerEnd(opened.profile.layer), BigInt(vm.memoryBytes));
      } finally {
        await opened.close();
      }
    } finally {
      await removeVm('labpid');
    }
  });

  void it('rejects dead sockets, missing files, bad names and unknown VMs', async () => {
    await assert.rejects(
      addVm('dead', { qmpSocket: join(home, 'none.sock') }),
      (e) => isVmsightError(e, 'CONNECTOR_ERROR') && e.message.includes('none.sock'),
    );
    await assert.rejects(
      addVm('noram', { qmpSocket: join(home, 'qmp.sock'), ramPath: join(home, 'missing') }),
      (e) => isVmsightError(e, 'NOT_FOUND'),
    );
    await assert.rejects(addVm('../x', { qmpSocket: join(home, 'qmp.sock') }), (e) =>
      isVmsightError(e, 'INVALID_ARGUMENT'),
    );
    await assert.rejects(
      addVm('both', { qmpSocket: join(home, 'qmp.sock'), ramPath: 'a', pid: 1 }),
      (e) => isVmsightError(e, 'INVALID_ARGUMENT'),
    );
    await assert.rejects(
      resolveVm('nope'),
      (e) => isVmsightError(e, 'NOT_FOUND') && /"nope"/.test(e.message),
    );
    await assert.rejects(removeVm('nope'), (e) => isVmsightError(e, 'NOT_FOUND'));
    writeFileSync(join(home, 'vms.json'), '{"not": "a registry"}');
    await assert.rejects(resolveVm('x'), (e) => isVmsightError(e, 'INVALID_INPUT'));
    rmSync(join(home, 'vms.json'));
  });
});
