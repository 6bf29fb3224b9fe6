// The GDB client against a real QEMU 7.2 gdbstub on the lab guest (nokaslr 6.1.0-56-amd64).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLabVm, type LabVm } from '../lab/index.js';
import { GdbClient } from './gdb-client.js';
import { X86_64_QEMU_REGISTERS, parseTargetXmlRegisters } from './gdb-registers.js';
import type { QmpClient } from './qmp-client.js';

const ENTRY_SYSCALL_64 = 0xffffffff81c00080n; // lab-notes §4
const INIT_TASK_COMM = 0xffffffff82a1aa40n + 2976n; // lab-notes §6

const hmpRegister = (text: string, name: string): bigint => {
  const value = new RegExp(`${name}\\s*=\\s*([0-9a-f]+)`, 'i').exec(text)?.[1];
  assert.ok(value !== undefined, `${name} in info registers`);
  return BigInt(`0x${value}`);
};

void describe('GdbClient against QEMU 7.2', { timeout: 300_000 }, () => {
  let vm: LabVm | undefined;
  let qmp: QmpClient;

  before(async () => {
    vm = await startLabVm({
      gdb: true,
      workload: 'echo WORKLOAD-UP\nwhile :; do echo x > /dev/null; done\n',
    });
    await vm.waitForSerial(/WORKLOAD-UP/, 120_000);
    qmp = await vm.qmp();
  });
  after(async () => {
    await vm?.stop();
  });

  void it('pauses the VM, serves the register layout we decode, and agrees with HMP on registers', async () => {
    const gdb = await GdbClient.connect({ port: vm?.gdbPort ?? 0 });
    try {
      assert.equal((await qmp.execute('query-status')).running, false);
      assert.equal(gdb.features.multiprocess, true);
      const target = await gdb.readFeatureXml('target.xml');
      const include = /href="([^"]+)"/.exec(target)?.[1] ?? '';
      assert.deepEqual(
        parseTargetXmlRegisters(await gdb.readFeatureXml(include)),
        X86_64_QEMU_REGISTERS,
      );
      const regs = await gdb.readRegisters();
      const info = await qmp.hmp('info registers');
      assert.equal(regs.cr3, hmpRegister(info, 'CR3'));
      assert.equal(regs.cr4, hmpRegister(info, 'CR4'));
      assert.equal(regs.rip, hmpRegister(info, 'RIP'));
      assert.equal(regs.values.get('efer'), hmpRegister(info, 'EFER'));
      assert.equal(regs.values.get('rsp'), hmpRegister(info, 'RSP'));
      assert.equal(
        regs.gsBase,
        BigInt(`0x${/GS =[0-9a-f]{4} ([0-9a-f]{16})/.exec(info)?.[1] ?? '0'}`),
      );
      const comm = Buffer.from(await gdb.readMemory(INIT_TASK_COMM, 16)).toString('latin1');
      assert.equal(comm.split('\0')[0], 'swapper/0');
      // `M` writes guest memory (init_task.comm, restored at once while the VM is paused).
      const original = await gdb.readMemory(INIT_TASK_COMM, 16);
      await gdb.writeMemory(INIT_TASK_COMM, Buffer.from('vmsight-test\0\0\0\0'));
      assert.match(await qmp.hmp('xp /2gx 0x2a1b5e0'), /0x2d74686769736d76/); // "vmsight-" LE
      await gdb.writeMemory(INIT_TASK_COMM, original);
      assert.deepEqual(await gdb.readMemory(INIT_TASK_COMM, 16), original);
      // `p` (one register) agrees with `g`.
      assert.equal(await gdb.readRegister(16), regs.rip);
    } finally {
      await gdb.detach();
    }
    assert.equal((await qmp.execute('query-status')).running, true);
  });

  for (const type of ['hardware', 'software'] as const) {
    void it(`stops at a ${type} breakpoint on entry_SYSCALL_64, steps, hits it again, and detaches`, async () => {
      const gdb = await GdbClient.connect({ port: vm?.gdbPort ?? 0 });
      try {
        await gdb.insertBreakpoint(type, ENTRY_SYSCALL_64);
        const first = await gdb.continue({ timeoutMs: 30_000 });
        assert.ok(first.kind === 'signal' && first.signal === 5, JSON.stringify(first));
        const atHit = await gdb.readRegisters();
        assert.equal(atHit.rip, ENTRY_SYSCALL_64);
        // At syscall entry swapgs has not run: the kernel per-cpu base is in k_gs_base.
        assert.ok(atHit.kernelGsBase >= 0xffff800000000000n, atHit.kernelGsBase.toString(16));
        const step = await gdb.step();
        assert.equal(step.kind, 'signal');
        const afterStep = await gdb.readRegisters();
        assert.notEqual(afterStep.rip, ENTRY_SYSCALL_64);
        // The next syscall stops again (a continue at the breakpoint PC steps off it first).
        await gdb.continue({ timeoutMs: 30_000 });
        assert.equal((await gdb.readRegisters()).rip, ENTRY_SYSCALL_64);
        await gdb.continue({ timeoutMs: 30_000 });
        assert.equal((await gdb.readRegisters()).rip, ENTRY_SYSCALL_64);
        await gdb.removeBreakpoint(type, ENTRY_SYSCALL_64);
      } finally {
        await gdb.detach();
      }
      assert.equal((await qmp.execute('query-status')).running, true);
    });
  }

  void it('interrupts a running VM and reconnects cleanly', async () => {
    const gdb = await GdbClient.connect({ port: vm?.gdbPort ?? 0 });
    const running = gdb.continue({ timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await qmp.execute('query-status')).running, true);
    const stop = await gdb.interrupt();
    assert.equal(stop.kind, 'signal');
    await running;
    assert.equal((await qmp.execute('query-status')).running, false);
    await gdb.detach();
    const again = await GdbClient.connect({ port: vm?.gdbPort ?? 0 });
    assert.ok((await again.readRegisters()).cr3 > 0n);
    await again.detach();
    assert.equal((await qmp.execute('query-status')).running, true);
  });
});
