import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isVmsightError } from '../core/index.js';
import { startLabVm, type LabVm } from './lab-vm.js';
import { isVmProcessAlive, listVmStates, readVmState } from './vm-state.js';

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when the guest RAM file holds the kernel's banner (the kernel image sits below 64 MiB). */
function ramHoldsLinuxBanner(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(4 * 2 ** 20);
    for (let offset = 0; offset < 64 * 2 ** 20; offset += chunk.length - 64) {
      const read = readSync(fd, chunk, 0, chunk.length, offset);
      if (chunk.subarray(0, read).includes('Linux version ')) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

async function assertGone(vm: LabVm): Promise<void> {
  assert.equal(processExists(vm.pid), false, `QEMU pid ${vm.pid} still runs`);
  assert.equal(existsSync(vm.ramPath), false, 'the RAM file was removed');
  assert.equal(existsSync(vm.dir), false, 'the state directory was removed');
  assert.equal(await readVmState(vm.name), undefined);
}

void describe('startLabVm (real QEMU)', { timeout: 600_000 }, () => {
  let vm: LabVm;
  const extra: LabVm[] = [];
  before(async () => {
    vm = await startLabVm({ name: `lab-${process.pid}`, gdb: true });
  });
  after(async () => {
    await Promise.all([vm?.stop(), ...extra.map((v) => v.stop())]);
  });

  void it('boots to GUEST-READY with QMP, a shared RAM file and a gdbstub', async () => {
    assert.match(
      await vm.waitForSerial(/^GUEST-READY/),
      /^GUEST-READY kernel=\S+ uptime=[\d.]+ workload=none$/,
    );
    const qmp = await vm.qmp();
    assert.equal(await vm.qmp(), qmp, 'qmp() shares one connection');
    assert.equal((await qmp.execute('query-status')).status, 'running');
    assert.equal(statSync(vm.ramPath).size, vm.memoryBytes);
    assert.ok(ramHoldsLinuxBanner(vm.ramPath));
    assert.ok(vm.gdbPort !== undefined && vm.gdbPort > 0);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(vm.gdbPort ?? 0, '127.0.0.1', () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', reject);
    });
  });

  void it('records its state for lab status', async () => {
    const state = (await listVmStates()).find((s) => s.name === vm.name);
    assert.ok(state !== undefined);
    assert.equal(state.pid, vm.pid);
    assert.equal(isVmProcessAlive(state), true);
    assert.equal(
      isVmProcessAlive({ ...state, controlSocket: '/not/this/vm' }),
      false,
      'a recycled pid is not the VM',
    );
  });

  void it('refuses a second VM with the same name', async () => {
    await assert.rejects(
      startLabVm({ name: vm.name }),
      (e) => isVmsightError(e, 'INVALID_ARGUMENT') && /already running/.test(e.message),
    );
  });

  void it('times out waiting for serial output that never comes', async () => {
    await assert.rejects(vm.waitForSerial(/never-printed/, 200), (e) =>
      isVmsightError(e, 'TIMEOUT'),
    );
  });

  void it('runs a workload, reports GUEST-DONE with its status, then stops cleanly', async () => {
    const worker = await startLabVm({ workload: 'echo workload-ran; exit 7' });
    extra.push(worker);
    assert.match(await worker.waitForSerial(/GUEST-DONE rc=\d+/), /^GUEST-DONE rc=7\b/);
    assert.match(await worker.waitForSerial(/workload-ran/), /workload-ran/);
    await worker.stop();
    await worker.stop();
    await assertGone(worker);
  });

  void it('powers off an idle guest with stop() and removes its files', async () => {
    const idle = await startLabVm({ memory: '128M' });
    extra.push(idle);
    assert.equal(statSync(idle.ramPath).size, 128 * 2 ** 20);
    await idle.stop();
    await assertGone(idle);
    await assert.rejects(idle.qmp(), (e) => isVmsightError(e, 'CONNECTOR_ERROR'));
  });

  void it('boots with 5-level paging when asked (bzImage, -cpu max)', async () => {
    const la57 = await startLabVm({ la57: true });
    extra.push(la57);
    const registers = await (await la57.qmp()).hmp('info registers');
    const cr4 = BigInt(`0x${/CR4=([0-9a-f]+)/.exec(registers)?.[1] ?? '0'}`);
    assert.equal((cr4 >> 12n) & 1n, 1n, `CR4.LA57 set in ${cr4.toString(16)}`);
    await la57.stop();
  });

  void it('fails fast, and leaves nothing behind, when QEMU cannot start', async () => {
    let failed: unknown;
    try {
      extra.push(
        await startLabVm({ name: `bad-${process.pid}`, extraArgs: ['-vmsight-no-such-option'] }),
      );
    } catch (error) {
      failed = error;
    }
    assert.ok(isVmsightError(failed, 'CONNECTOR_ERROR'), String(failed));
    assert.match(failed.message, /exited/);
    assert.equal(await readVmState(`bad-${process.pid}`), undefined);
  });

  void it('kills the VM when the boot deadline passes', async () => {
    await assert.rejects(startLabVm({ name: `slow-${process.pid}`, bootTimeoutMs: 1 }), (e) =>
      isVmsightError(e, 'TIMEOUT'),
    );
    assert.equal(await readVmState(`slow-${process.pid}`), undefined);
  });

  void it('kills VMs a crashed or interrupted test process leaves behind (process-exit safety net)', async () => {
    const labIndex = fileURLToPath(new URL('./index.ts', import.meta.url));
    for (const ending of ['exit', 'SIGTERM'] as const) {
      const script = `
        import { startLabVm } from ${JSON.stringify(labIndex)};
        const vm = await startLabVm();
        console.log(JSON.stringify({ pid: vm.pid, ramPath: vm.ramPath, dir: vm.dir }));
        if (${JSON.stringify(ending)} === 'exit') process.exit(3);
        setInterval(() => {}, 1000);
      `;
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
        child.once('exit', (code) =>
          reject(new Error(`child exited with ${code} before starting a VM`)),
        );
      });
      const started = JSON.parse(line) as { pid: number; ramPath: string; dir: string };
      if (ending === 'SIGTERM') child.kill('SIGTERM');
      await new Promise((resolve) =>
        child.exitCode !== null || child.signalCode !== null
          ? resolve(undefined)
          : child.once('exit', resolve),
      );
      for (let i = 0; i < 100 && processExists(started.pid); i += 1)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(processExists(started.pid), false, `QEMU survived its parent's ${ending}`);
      assert.equal(existsSync(started.ramPath), false);
      assert.equal(existsSync(started.dir), false);
    }
  });
});
