import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLabBuilt, startLabVm, type LabVm } from '../lab/index.js';
import { openElfCore, openRawLayer, type ElfCore, type PhysicalLayer } from '../layers/index.js';
import { scanKallsymsTables } from '../symbols/index.js';
import { openKernelProfile, type KernelProfile } from './kernel-profile.js';

/** Symbols the Linux plugins read, and two the issue names. */
const PLUGIN_SYMBOLS = [
  'init_task',
  'init_pid_ns',
  'init_top_pgt',
  'linux_banner',
  'modules',
  'current_task',
  'runqueues',
  '__per_cpu_offset',
  'nr_cpu_ids',
  '__switch_to',
  'entry_SYSCALL_64',
  'asm_exc_divide_error',
];

void describe(
  'kallsyms found by scanning guest memory, without VMCOREINFO (KASLR on, 5-level paging)',
  { timeout: 600_000 },
  () => {
    let vm: LabVm | undefined;
    let core: ElfCore | undefined;
    let live: PhysicalLayer | undefined;
    let vmlinux = '';
    const dir = mkdtempSync(join(tmpdir(), 'vmsight-kallsyms-scan-'));

    before(async () => {
      vmlinux = (await ensureLabBuilt()).vmlinux;
      vm = await startLabVm({ kaslr: true, la57: true, vmcoreinfoDevice: false });
      const qmp = await vm.qmp();
      await qmp.execute('stop');
      const dump = join(dir, 'guest.elf');
      await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${dump}` });
      core = openElfCore(dump);
      live = openRawLayer(vm.ramPath, { cache: false, ram: true });
    });

    after(async () => {
      live?.close();
      core?.close();
      await vm?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    void it('the dump has no VMCOREINFO note; the scan finds the tables by structure', () => {
      assert.ok(core !== undefined);
      assert.equal(core.vmcoreinfo, undefined);
      const found = scanKallsymsTables(core.layer);
      assert.ok(found !== undefined);
      assert.ok(found.numSyms > 90_000, `num_syms ${found.numSyms}`);
      // Their order in .rodata (scripts/kallsyms.c of 6.1).
      const t = found.tables;
      assert.ok(
        t.offsets < t.relativeBase &&
          t.relativeBase < t.numSyms &&
          t.numSyms < t.names &&
          t.names < t.tokenTable &&
          t.tokenTable < t.tokenIndex,
      );
    });

    void it('recovers the same kernel position and symbols as the VMCOREINFO path, dump and live', async () => {
      const layer = core?.layer as PhysicalLayer;
      // The kernel keeps its VMCOREINFO text in RAM even without the device: the reference.
      const reference = await openKernelProfile(layer, { kernel: vmlinux });
      assert.ok(reference.vmcoreinfo !== undefined);
      assert.notEqual(reference.slide, 0n);
      assert.equal(reference.la57, true);
      const fromDump = await openKernelProfile(layer, { kernel: vmlinux, scanKallsyms: true });
      const fromLive = await openKernelProfile(live as PhysicalLayer, {
        kernel: vmlinux,
        scanKallsyms: true,
      });
      for (const scanned of [fromDump, fromLive]) {
        assert.equal(scanned.vmcoreinfo, undefined);
        assertSameKernel(scanned, reference);
      }
    });

    void it('falls back to the scan by itself when no VMCOREINFO is found', async () => {
      const layer = core?.layer as PhysicalLayer;
      // A VMCOREINFO search that reads nothing stands for a kernel without CONFIG_CRASH_CORE.
      const profile = await openKernelProfile(layer, {
        kernel: vmlinux,
        vmcoreinfoScan: { maxScanBytes: 0n },
      });
      assert.equal(profile.vmcoreinfo, undefined);
      assertSameKernel(profile, await openKernelProfile(layer, { kernel: vmlinux }));
    });
  },
);

function assertSameKernel(scanned: KernelProfile, reference: KernelProfile): void {
  assert.deepEqual(
    {
      slide: scanned.slide,
      physBase: scanned.physBase,
      la57: scanned.la57,
      kernelCr3: scanned.kernelCr3,
      banner: scanned.banner,
    },
    {
      slide: reference.slide,
      physBase: reference.physBase,
      la57: reference.la57,
      kernelCr3: reference.kernelCr3,
      banner: reference.banner,
    },
  );
  for (const name of PLUGIN_SYMBOLS) {
    assert.ok(reference.symbols.address(name) !== undefined, name);
    assert.equal(scanned.symbols.address(name), reference.symbols.address(name), name);
  }
  const ours = scanned.symbols.isf.symbols;
  const theirs = reference.symbols.isf.symbols;
  assert.equal(Object.keys(ours).length, Object.keys(theirs).length);
  for (const name of Object.keys(theirs)) {
    assert.equal(ours[name]?.address, theirs[name]?.address, name);
  }
}
