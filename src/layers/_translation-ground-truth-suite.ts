/**
 * The ground-truth suite shared by the 4-level and 5-level test files: boots one lab guest, pauses
 * it, takes an ELF dump of that moment, and checks vmsight's translations and bytes (live RAM, the
 * dump, `/proc/<pid>/mem`) against QEMU's own HMP answers. Test support only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GdbClient, type QmpClient } from '../connectors/index.js';
import { hex } from '../core/index.js';
import {
  gva2gpaMany,
  parseInfoRegisters,
  randomBigints,
  sampleAddresses,
  xp,
  type CpuControl,
  type SampledAddress,
} from './_qemu-ground-truth.js';
import { openElfCore, type ElfCore } from './elf-core-layer.js';
import { PageTableWalker } from './page-table-walker.js';
import { CR3_ADDRESS_MASK, pagingModeForCr4 } from './paging-modes.js';
import { openProcMemLayer } from './proc-mem-layer.js';
import { openRawLayer } from './raw-layer.js';
import type { SegmentedLayer } from './segmented-layer.js';
import { VirtualLayer } from './virtual-layer.js';

/** What the suite needs of a lab VM (`LabVm` from src/lab, passed in by the test file). */
export interface GroundTruthVm {
  readonly pid: number;
  readonly ramPath: string;
  readonly memoryBytes: number;
  readonly gdbPort?: number | undefined;
  qmp(): Promise<QmpClient>;
  waitForSerial(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Sleepers plus three processes with heaps (a 3 MB awk string, shell variables of 100+ KB) that
 * make system calls in a loop, so that one of them is current when the VM is paused and each gets
 * stopped at the syscall entry in turn.
 */
export const GROUND_TRUTH_WORKLOAD = `
for i in 1 2 3; do sleep 3600 & done
awk 'BEGIN { s = sprintf("%3000000s", ""); gsub(/ /, "x", s); while (1) { printf "" > "/dev/null"; close("/dev/null") } }' &
sh -c 'v=$(seq 1 30000); while :; do echo x > /dev/null; done' &
sh -c 'w=$(seq 1 20000); while :; do echo y > /dev/null; done' &
sleep 1
echo WORKLOAD-UP
while :; do sleep 1; done
`;

const INIT_TASK = 0xffffffff82a1aa40n; // nokaslr, 6.1.0-56-amd64 (lab-notes §6)
const INIT_TASK_COMM = 2976; // task_struct.comm (BTF, lab-notes §6)
const ENTRY_SYSCALL_64 = 0xffffffff81c00080n;

export function translationGroundTruthSuite(
  label: string,
  options: {
    start: () => Promise<GroundTruthVm>;
    expectLevels: 4 | 5;
  },
): void {
  void describe(`translation against QEMU, ${label}`, { timeout: 600_000 }, () => {
    let vm: GroundTruthVm | undefined;
    let qmp: QmpClient;
    let dir = '';
    let cpu: CpuControl;
    let live: SegmentedLayer;
    let dump: ElfCore;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vmsight-truth-'));
      vm = await options.start();
      await vm.waitForSerial(/WORKLOAD-UP/, 120_000);
      qmp = await vm.qmp();
      await qmp.execute('stop');
      cpu = parseInfoRegisters(await qmp.hmp('info registers'));
      const dumpPath = join(dir, 'guest.elf');
      await qmp.execute(
        'dump-guest-memory',
        { paging: false, protocol: `file:${dumpPath}` },
        { timeoutMs: 120_000 },
      );
      live = openRawLayer(vm.ramPath, { cache: false });
      dump = openElfCore(dumpPath);
    });

    after(async () => {
      live?.close();
      dump?.close();
      await vm?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    void it('reads the CPU state and VMCOREINFO notes of the dump', () => {
      assert.equal(pagingModeForCr4(cpu.cr4).levels.length, options.expectLevels);
      assert.equal(dump.cpus.length, 1);
      assert.equal(dump.cpus[0]?.cr3, cpu.cr3);
      assert.equal(dump.cpus[0]?.cr4, cpu.cr4);
      assert.equal(dump.prstatus.length, 1);
      // NT_PRSTATUS and the QEMU note describe the same vCPU.
      assert.equal(dump.prstatus[0]?.rip, dump.cpus[0]?.rip);
      assert.equal(dump.prstatus[0]?.rsp, dump.cpus[0]?.rsp);
      assert.equal(dump.prstatus[0]?.rax, dump.cpus[0]?.rax);
      assert.ok(dump.vmcoreinfo?.get('OSRELEASE')?.startsWith('6.'));
      assert.ok(dump.vmcoreinfo?.symbol('init_top_pgt') !== undefined);
      assert.equal(
        dump.vmcoreinfo?.number('pgtable_l5_enabled') ?? 0n,
        options.expectLevels === 5 ? 1n : 0n,
      );
    });

    void it('translates 10,000+ addresses like HMP gva2gpa, from live RAM and from the dump', async (t) => {
      const mode = pagingModeForCr4(cpu.cr4);
      const liveWalker = new PageTableWalker(live, mode);
      const dumpWalker = new PageTableWalker(dump.layer, mode);
      const five = mode.levels.length === 5;
      const addresses: SampledAddress[] = sampleAddresses(liveWalker, {
        cr3: cpu.cr3,
        ramBytes: BigInt(vm?.memoryBytes ?? 0),
        directMap: five ? 0xff11000000000000n : 0xffff888000000000n,
        userEnd: five ? 1n << 56n : 1n << 47n,
        kernelText: 0xffffffff81000000n,
        extra: [INIT_TASK, ENTRY_SYSCALL_64, five ? 0xff11000000000000n : 0xffff888000000000n],
      });
      const started = Date.now();
      const truth = await gva2gpaMany(
        qmp,
        addresses.map((a) => a.va),
      );
      const hmpMs = Date.now() - started;
      const mismatches: string[] = [];
      const counts = new Map<string, { mapped: number; unmapped: number }>();
      const pageSizes = new Map<number, number>();
      addresses.forEach(({ va, category }, i) => {
        const expected = truth[i];
        const fromLive = liveWalker.translate(cpu.cr3, va);
        const fromDump = dumpWalker.translate(cpu.cr3, va);
        const liveAnswer = fromLive.ok ? fromLive.physical : undefined;
        const dumpAnswer = fromDump.ok ? fromDump.physical : undefined;
        if (fromLive.ok)
          pageSizes.set(fromLive.pageSize, (pageSizes.get(fromLive.pageSize) ?? 0) + 1);
        const count = counts.get(category) ?? { mapped: 0, unmapped: 0 };
        if (expected === undefined) count.unmapped += 1;
        else count.mapped += 1;
        counts.set(category, count);
        if (liveAnswer !== expected || dumpAnswer !== expected) {
          mismatches.push(
            `${category} ${hex(va)}: qemu ${expected === undefined ? 'unmapped' : hex(expected)}, live ${liveAnswer === undefined ? JSON.stringify(fromLive, (_k, v: unknown) => (typeof v === 'bigint' ? hex(v) : v)) : hex(liveAnswer)}, dump ${dumpAnswer === undefined ? 'unmapped' : hex(dumpAnswer)}`,
          );
        }
      });
      t.diagnostic(
        `${addresses.length} addresses, HMP gva2gpa ${hmpMs} ms (${Math.round((addresses.length / hmpMs) * 1000)}/s)`,
      );
      for (const [category, count] of counts)
        t.diagnostic(`${category}: ${count.mapped} mapped, ${count.unmapped} unmapped`);
      t.diagnostic(
        `mapped through pages of ${[...pageSizes].map(([size, n]) => `${size / 1024} KiB: ${n}`).join(', ')}`,
      );
      assert.ok(addresses.length >= 10_000);
      assert.ok((pageSizes.get(2 * 1024 * 1024) ?? 0) > 0, '2 MiB pages exercised');
      for (const category of ['kernel-text', 'direct-map', 'vmalloc-and-other-kernel', 'user']) {
        assert.ok((counts.get(category)?.mapped ?? 0) > 100, `${category} has mapped samples`);
      }
      assert.ok(
        [...counts.values()].reduce((n, c) => n + c.unmapped, 0) > 1000,
        'unmapped samples',
      );
      assert.deepEqual(mismatches.slice(0, 10), []);
      assert.equal(mismatches.length, 0);
    });

    void it('reads the same bytes as HMP xp from live RAM, /proc/<pid>/mem, the dump and virtual reads', async () => {
      const mode = pagingModeForCr4(cpu.cr4);
      const walker = new PageTableWalker(live, mode);
      const procMem = openProcMemLayer({
        pid: vm?.pid ?? 0,
        ramSize: BigInt(vm?.memoryBytes ?? 0),
        memPath: vm?.ramPath ?? '',
      });
      try {
        const kernel = new VirtualLayer(walker, cpu.cr3);
        const dumpKernel = new VirtualLayer(new PageTableWalker(dump.layer, mode), cpu.cr3);
        const samples = sampleAddresses(
          walker,
          {
            cr3: cpu.cr3,
            ramBytes: BigInt(vm?.memoryBytes ?? 0),
            directMap: mode.levels.length === 5 ? 0xff11000000000000n : 0xffff888000000000n,
            userEnd: mode.levels.length === 5 ? 1n << 56n : 1n << 47n,
            kernelText: 0xffffffff81000000n,
          },
          0,
        )
          .filter((a) => walker.translate(cpu.cr3, a.va).ok)
          .filter((_, i) => i % 97 === 0)
          .slice(0, 80);
        assert.ok(samples.length >= 50);
        for (const { va } of [{ va: INIT_TASK }, ...samples]) {
          const aligned = va & ~7n;
          const pa = walker.translateOrThrow(cpu.cr3, aligned);
          const length = Math.min(64, Number(0x1000n - (pa & 0xfffn)));
          const expected = await xp(qmp, pa, length / 8);
          assert.deepEqual(live.read(pa, length), expected, `live ${hex(pa)}`);
          assert.deepEqual(procMem.read(pa, length), expected, `proc-mem ${hex(pa)}`);
          assert.deepEqual(dump.layer.read(pa, length), expected, `dump ${hex(pa)}`);
          assert.deepEqual(kernel.read(aligned, length), expected, `virtual ${hex(aligned)}`);
          assert.deepEqual(
            dumpKernel.read(aligned, length),
            expected,
            `dump virtual ${hex(aligned)}`,
          );
        }
        const comm = Buffer.from(kernel.read(INIT_TASK + BigInt(INIT_TASK_COMM), 16));
        assert.equal(comm.toString('latin1').split('\0')[0], 'swapper/0');
      } finally {
        procMem.close();
      }
    });

    void it('reads a paging dump (PN_XNUM): every PT_LOAD maps p_vaddr to p_paddr as the walker does', async (t) => {
      const path = join(dir, 'paging.elf');
      const started = Date.now();
      await qmp.execute(
        'dump-guest-memory',
        { paging: true, protocol: `file:${path}` },
        { timeoutMs: 300_000 },
      );
      const pagingDump = openElfCore(path);
      try {
        const walker = new PageTableWalker(live, pagingModeForCr4(cpu.cr4));
        const vaBits = BigInt(walker.mode.vaBits);
        const loads = pagingDump.programHeaders.filter((ph) => ph.p_type === 1 && ph.p_filesz > 0n);
        t.diagnostic(
          `paging dump: ${pagingDump.programHeaders.length} program headers, ${loads.length} PT_LOAD with data, ${pagingDump.overlappingSegments} overlapping, ${Date.now() - started} ms`,
        );
        // About 65,800 headers on the lab guest: past 65,534, e_phnum must say PN_XNUM.
        const ePhnum = pagingDump.layer.source.read(56n, 2);
        if (pagingDump.programHeaders.length >= 0xffff) {
          assert.deepEqual([...ePhnum], [0xff, 0xff], 'e_phnum is PN_XNUM');
        } else {
          t.diagnostic('fewer than 65,535 program headers: PN_XNUM not exercised by this run');
        }
        const step = Math.max(1, Math.floor(loads.length / 3000));
        let checked = 0;
        for (let i = 0; i < loads.length; i += step) {
          const ph = loads[i];
          if (ph === undefined) continue;
          // QEMU 7.2 (arch_memory_mapping.c) starts every line address with the top bits set
          // (0xffff << 48 for 4-level), so lower-half mappings come out non-canonical:
          // sign-extend from bit vaBits-1 again.
          const low = ph.p_vaddr & ((1n << vaBits) - 1n);
          const vaddr =
            (low & (1n << (vaBits - 1n))) !== 0n
              ? low | (((1n << 64n) - 1n) ^ ((1n << vaBits) - 1n))
              : low;
          for (const offset of [0n, ph.p_filesz - 1n]) {
            const result = walker.translate(cpu.cr3, vaddr + offset);
            assert.ok(result.ok, `p_vaddr ${hex(vaddr + offset)}`);
            assert.equal(result.physical, ph.p_paddr + offset, `p_vaddr ${hex(vaddr + offset)}`);
          }
          if (checked % 10 === 0 && dump.layer.isValid(ph.p_paddr, 16)) {
            assert.deepEqual(
              pagingDump.layer.read(ph.p_paddr, 16),
              dump.layer.read(ph.p_paddr, 16),
            );
          }
          checked += 1;
        }
        assert.ok(checked >= 1000);
      } finally {
        pagingDump.close();
        rmSync(path, { force: true });
      }
    });

    void it('translates user stacks and heaps of several processes like gva2gpa, each stopped at a syscall by GDB', async (t) => {
      const mode = pagingModeForCr4(cpu.cr4);
      const userEnd = mode.levels.length === 5 ? 1n << 56n : 1n << 47n;
      const next = randomBigints(0xabcdefn);
      const gdb = await GdbClient.connect({ port: vm?.gdbPort ?? 0 });
      const checked = new Map<bigint, number>();
      try {
        await gdb.insertBreakpoint('hardware', ENTRY_SYSCALL_64);
        for (let hit = 0; hit < 400 && checked.size < 3; hit += 1) {
          await gdb.continue({ timeoutMs: 30_000 });
          const regs = await gdb.readRegisters();
          const root = regs.cr3 & CR3_ADDRESS_MASK;
          if (checked.has(root)) continue;
          // A fresh walker: the guest ran since the last one cached tables.
          live.invalidate();
          const walker = new PageTableWalker(live, mode);
          const user = [...walker.mappings(regs.cr3, { end: userEnd })];
          // At syscall entry RSP is still the user stack pointer (lab-notes §4).
          const addresses: bigint[] = [regs.rsp, regs.rsp - 0x1000n, regs.rsp + 0x1000n];
          for (let i = 0; i < 1000 && user.length > 0; i += 1) {
            const mapping = user[Number(next() % BigInt(user.length))];
            if (mapping !== undefined)
              addresses.push(mapping.virtual + (next() % BigInt(mapping.size)));
          }
          for (let i = 0; i < 100; i += 1) addresses.push(next() % userEnd);
          const dumpPath = join(dir, `process-${checked.size}.elf`);
          await qmp.execute(
            'dump-guest-memory',
            { paging: false, protocol: `file:${dumpPath}` },
            { timeoutMs: 120_000 },
          );
          const processDump = openElfCore(dumpPath);
          try {
            const dumpWalker = new PageTableWalker(processDump.layer, mode);
            const truth = await gva2gpaMany(qmp, addresses);
            let mapped = 0;
            const mismatches = addresses.filter((va, i) => {
              const a = walker.translate(regs.cr3, va);
              const b = dumpWalker.translate(regs.cr3, va);
              if (truth[i] !== undefined) mapped += 1;
              return (
                (a.ok ? a.physical : undefined) !== truth[i] ||
                (b.ok ? b.physical : undefined) !== truth[i]
              );
            });
            t.diagnostic(
              `CR3 ${hex(root)}: ${user.length} user pages, ${addresses.length} addresses (${mapped} mapped), rsp ${hex(regs.rsp)}`,
            );
            assert.deepEqual(
              mismatches.slice(0, 5).map((va) => hex(va)),
              [],
            );
            assert.ok(mapped > 500);
          } finally {
            processDump.close();
            rmSync(dumpPath, { force: true });
          }
          checked.set(root, addresses.length);
        }
        await gdb.removeBreakpoint('hardware', ENTRY_SYSCALL_64);
      } finally {
        await gdb.detach();
      }
      assert.ok(checked.size >= 3, `${checked.size} processes checked`);
    });
  });
}
