import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isVmsightError } from '../../core/index.js';
import type { LabVm } from '../../lab/index.js';
import type { ElfCore, PhysicalLayer } from '../../layers/index.js';
import { openKernelProfile, type KernelProfile } from '../../profiles/index.js';
import {
  SymbolTable,
  readIsfFile,
  writeIsfFile,
  type IntrospectionWarning,
  type IsfDocument,
} from '../../symbols/index.js';
import { REFERENCE_ISF, REFERENCE_ISF_MISSING } from '../../symbols/internal.js';
import {
  PatchedLayer,
  assertCreateTimesMatchGuest,
  assertMatchesGuest,
  parseGuestBootTime,
  parseGuestModules,
  plain,
  psaux,
  type GuestProcess,
} from './_lab-ps-support.js';
import { readBootTimeNs } from './boot-time.js';
import { lsmodPlugin } from './lsmod.js';
import { pslistPlugin } from './pslist.js';
import { psxviewPlugin } from './psxview.js';
import { pstreePlugin } from './pstree.js';
import { startPausedPsGuest, type PausedPsGuest } from './internal-test/paused-ps-guest.js';

const SAMPLE_SYMBOLS = [
  'init_task',
  'linux_banner',
  'init_top_pgt',
  'asm_exc_divide_error',
  'entry_SYSCALL_64',
  'modules',
  'current_task',
  'init_pid_ns',
  'sys_call_table',
];

void describe(
  'pslist/psaux/pstree on the lab guest, live and from a dump',
  { timeout: 600_000 },
  () => {
    let vm: LabVm | undefined;
    let dir = '';
    let vmlinux = '';
    let guest = new Map<number, GuestProcess>();
    let core: ElfCore | undefined;
    let live: KernelProfile;
    let fromDump: KernelProfile;

    let fixture: PausedPsGuest | undefined;

    before(async () => {
      fixture = await startPausedPsGuest({ identifyKernel: true });
      ({ vm, dir, vmlinux, guest, core, live, fromDump } = fixture);
    });

    after(() => fixture?.close());

    void it('identifies the kernel from memory alone (VMCOREINFO found by scanning live RAM)', () => {
      assert.match(live.banner, /^Linux version 6\.1\.0-56-amd64 /);
      assert.equal(live.banner, fromDump.banner);
      assert.equal(live.slide, 0n);
      assert.equal(live.la57, false);
      assert.equal(live.symbols.address('init_task'), 0xffffffff82a1aa40n); // lab-notes §6, nokaslr
    });

    void it('lists the same processes live and from the dump, matching the guest listing', () => {
      assert.ok(guest.size > 40, `guest listing has ${guest.size} entries`);
      const a = psaux(live);
      const b = psaux(fromDump);
      assert.deepEqual(a.warnings, []);
      assert.deepEqual(plain(a.rows), plain(b.rows));
      assertMatchesGuest(a.rows, guest);
      const args = a.rows.map((r) => r.args);
      assert.ok(args.includes('sleep 1000'));
      assert.ok(args.includes('sh -c sleep 3000; echo never vmsight-arg0 alpha beta'));
      assert.ok(args.includes('nc -l -p 8080'));
      const user = a.rows.filter((r) => !r.kernelThread && r.pid !== 0);
      assert.ok(user.every((r) => r.cr3 !== 0n && r.cr3 % 4096n === 0n));
    });

    void it('lists threads with --threads and builds the tree from parent pids', () => {
      const warnings: IntrospectionWarning[] = [];
      const context = { profile: fromDump, warn: (w: IntrospectionWarning) => warnings.push(w) };
      const processes = [...pslistPlugin.run(context, {})];
      const threads = [...pslistPlugin.run(context, { threads: true })];
      assert.ok(threads.length >= processes.length);
      assert.ok(threads.filter((t) => t.thread).every((t) => t.tgid !== t.pid));
      const tree = [...pstreePlugin.run(context, {})];
      assert.equal(tree.length, processes.length);
      const nc = tree.find((r) => r.comm === 'nc');
      const shell = tree.find((r) => r.pid === nc?.ppid);
      assert.equal(shell?.comm, 'sh');
      assert.equal(nc?.depth, (shell?.depth ?? 0) + 1);
      assert.deepEqual(warnings, []);
    });

    void it(
      'recovers kallsyms addresses equal to the reference ISF (System.map) for the kernel image',
      { skip: REFERENCE_ISF_MISSING },
      async () => {
        const reference = await readIsfFile(REFERENCE_ISF);
        const ours = fromDump.symbols.isf.symbols;
        let compared = 0;
        let equal = 0;
        for (const name of Object.keys(ours)) {
          const theirs = Object.hasOwn(reference.symbols, name)
            ? reference.symbols[name]
            : undefined;
          if (theirs === undefined) continue;
          compared += 1;
          if (theirs.address === ours[name]?.address) equal += 1;
        }
        for (const name of SAMPLE_SYMBOLS) {
          assert.equal(ours[name]?.address, reference.symbols[name]?.address, name);
        }
        // The kallsyms tables themselves are not in kallsyms; VMCOREINFO names them.
        assert.equal(
          core?.vmcoreinfo?.symbol('kallsyms_names'),
          reference.symbols['kallsyms_names']?.address,
        );
        assert.ok(compared > 80_000, `compared ${compared}`);
        assert.equal(equal, compared);
      },
    );

    void it(
      'gives the same pslist with an ISF written by symbols build and with the reference ISF',
      { skip: REFERENCE_ISF_MISSING },
      async () => {
        const path = join(dir, 'built.json.xz');
        await writeIsfFile(path, fromDump.symbols.isf);
        const expected = plain(psaux(fromDump).rows);
        for (const isf of [path, REFERENCE_ISF]) {
          const profile = await openKernelProfile(core?.layer as PhysicalLayer, {
            vmcoreinfo: core?.vmcoreinfo,
            isf,
          });
          assert.equal(profile.source, 'isf');
          assert.deepEqual(plain(psaux(profile).rows), expected, isf);
        }
        const written: IsfDocument = await readIsfFile(path);
        assert.match(written.metadata.format, /^6\./);
        assert.ok(Object.hasOwn(written.symbols, 'linux_banner'));
      },
    );

    void it('survives a task list with a loop and an unmapped pointer: partial rows and typed warnings', async () => {
      const layer = core?.layer as PhysicalLayer;
      const rows = psaux(fromDump).rows;
      const tasksOffset = BigInt(fromDump.symbols.offsetOf('task_struct', 'tasks'));
      const physical = (va: bigint): bigint => {
        const hit = fromDump.kernel.translate(va);
        assert.ok(hit.ok);
        return hit.physical;
      };
      const sleeper = rows.find((r) => r.args === 'sleep 1000');
      const init = rows.find((r) => r.pid === 1);
      assert.ok(sleeper !== undefined && init !== undefined);

      // sleep's tasks.next points back at init's node: a loop that never returns to init_task.
      const looped = new PatchedLayer(layer).patchU64(
        physical(sleeper.task + tasksOffset),
        init.task + tasksOffset,
      );
      const a = await openKernelProfile(looped, { vmcoreinfo: core?.vmcoreinfo, kernel: vmlinux });
      const loopResult = psaux(a);
      assert.ok(loopResult.warnings.some((w) => w.code === 'list-loop'));
      assert.ok(loopResult.rows.some((r) => r.pid === sleeper.pid));
      assert.ok(loopResult.rows.length <= rows.length);

      // init's tasks.next is a wild pointer; the walk recovers the rest backwards through prev.
      const wild = new PatchedLayer(layer).patchU64(
        physical(init.task + tasksOffset),
        0xffff_8880_7fff_0000n,
      );
      const b = psaux(
        await openKernelProfile(wild, { vmcoreinfo: core?.vmcoreinfo, kernel: vmlinux }),
      );
      assert.ok(b.warnings.some((w) => w.code === 'unreadable-memory'));
      assert.ok(b.rows.length >= rows.length - 1);

      // An absurd argument range is cut at maxArgBytes with a warning.
      const argEnd = BigInt(fromDump.symbols.offsetOf('mm_struct', 'arg_end'));
      const mm = readMm(fromDump, sleeper.task);
      const huge = new PatchedLayer(layer).patchU64(physical(mm + argEnd), 0x7fff_ffff_ffffn);
      const c = psaux(
        await openKernelProfile(huge, { vmcoreinfo: core?.vmcoreinfo, kernel: vmlinux }),
        {
          maxArgBytes: 4096,
        },
      );
      assert.ok(c.warnings.some((w) => w.code === 'bad-length' || w.code === 'unreadable-memory'));
      assert.equal(c.rows.length, rows.length);

      // A hostile kallsyms_num_syms is a typed error, not a huge allocation.
      const numSyms = core?.vmcoreinfo?.symbol('kallsyms_num_syms') ?? 0n;
      const bomb = new PatchedLayer(layer).patch(
        physical(numSyms),
        Uint8Array.of(0xff, 0xff, 0xff, 0x7f),
      );
      await assert.rejects(
        openKernelProfile(bomb, { vmcoreinfo: core?.vmcoreinfo, kernel: vmlinux }),
        (error) => isVmsightError(error, 'LIMIT_EXCEEDED'),
      );
    });

    void it('gives every process its creation time as the guest shows it (btime + starttime), live and from the dump', (t) => {
      const btime = parseGuestBootTime(readFileSync(vm?.serialPath ?? '', 'utf8'));
      assert.ok(btime !== undefined, 'the guest printed its btime');
      for (const profile of [live, fromDump]) {
        const warnings: IntrospectionWarning[] = [];
        const boot = readBootTimeNs(profile, (w) => warnings.push(w));
        assert.ok(boot !== undefined);
        // btime is getboottime64()'s seconds, truncated.
        assert.ok(Math.abs(Number(boot) / 1e9 - btime) <= 2, `boot ${boot} ns, btime ${btime} s`);
        const { rows } = psaux(profile);
        const { compared, maxDifference } = assertCreateTimesMatchGuest(rows, guest, btime);
        assert.ok(compared > 40, `compared ${compared}`);
        t.diagnostic(
          `boot ${new Date(Number(boot / 1_000_000n)).toISOString()} (btime ${btime}); ${compared} processes within ${maxDifference.toFixed(3)} s`,
        );
        // The idle task started at boot.
        assert.equal(
          rows.find((r) => r.pid === 0)?.createTime,
          new Date(Number(boot / 1_000_000n)).toISOString(),
        );
        const context = { profile, warn: (w: IntrospectionWarning) => warnings.push(w) };
        const created = new Map(rows.map((r) => [r.pid, r.createTime]));
        for (const row of [...pslistPlugin.run(context, {}), ...pstreePlugin.run(context, {})]) {
          assert.equal(row.createTime, created.get(row.pid), `pid ${row.pid}`);
        }
        assert.deepEqual(warnings, []);
      }
    });

    void it('gives no creation time, with a typed warning, for a corrupted or missing timekeeper', async () => {
      const layer = core?.layer as PhysicalLayer;
      const good = psaux(fromDump).rows;
      const withoutTimes = (rows: readonly object[]): unknown =>
        plain(rows.map((r) => ({ ...r, createTime: undefined })));
      const physical = (va: bigint): bigint => {
        const hit = fromDump.kernel.translate(va);
        assert.ok(hit.ok);
        return hit.physical;
      };
      // tk_core.timekeeper follows the 4-byte seqcount, at 8 (the reference ISF's offset too).
      const timekeeper = fromDump.symbols.requireAddress('tk_core') + 8n;
      const offsReal = BigInt(fromDump.symbols.offsetOf('timekeeper', 'offs_real'));
      const offsBoot = BigInt(fromDump.symbols.offsetOf('timekeeper', 'offs_boot'));
      const year3000 = BigInt(Date.UTC(3000, 0, 1)) * 1_000_000n;
      for (const [what, field, value] of [
        ['negative offs_boot', offsBoot, -1n],
        ['offs_real of 1970', offsReal, 0n],
        ['offs_real of the year 3000', offsReal, year3000],
      ] as const) {
        const patched = new PatchedLayer(layer).patchU64(physical(timekeeper + field), value);
        const profile = await openKernelProfile(patched, {
          vmcoreinfo: core?.vmcoreinfo,
          kernel: vmlinux,
        });
        const { rows, warnings } = psaux(profile);
        assert.deepEqual(
          warnings.map((w) => w.code),
          ['implausible-value'],
          what,
        );
        assert.ok(
          rows.every((r) => r.createTime === undefined),
          what,
        );
        assert.deepEqual(withoutTimes(rows), withoutTimes(good), what);
      }
      // A kernel whose symbol table lacks tk_core, and one whose tk_core is unmapped.
      const symbols = { ...fromDump.symbols.isf.symbols };
      delete symbols['tk_core'];
      const isf = { ...fromDump.symbols.isf, symbols };
      const missing = new SymbolTable(isf, { slide: fromDump.slide });
      const unmapped = new SymbolTable(
        { ...isf, symbols: { ...symbols, tk_core: { address: 0xffff_8880_7fff_0000n } } },
        { slide: fromDump.slide },
      );
      for (const [table, code] of [
        [missing, 'missing-symbol'],
        [unmapped, 'unreadable-memory'],
      ] as const) {
        const profile = { ...fromDump, symbols: table };
        const warnings: IntrospectionWarning[] = [];
        assert.equal(
          readBootTimeNs(profile, (w) => warnings.push(w)),
          undefined,
        );
        const rows = [...pslistPlugin.run({ profile, warn: (w) => warnings.push(w) }, {})];
        assert.deepEqual(
          warnings.map((w) => w.code),
          [code, code],
        );
        assert.equal(rows.length, good.length);
        assert.ok(rows.every((r) => r.createTime === undefined));
      }
    });

    void it('lists the loaded modules as /proc/modules shows them', () => {
      const expected = parseGuestModules(readFileSync(vm?.serialPath ?? '', 'utf8'));
      assert.ok(expected.length > 5, `guest printed ${expected.length} modules`);
      for (const profile of [live, fromDump]) {
        const warnings: IntrospectionWarning[] = [];
        const rows = [...lsmodPlugin.run({ profile, warn: (w) => warnings.push(w) }, {})];
        assert.deepEqual(
          rows.map((r) => ({ name: r.name, size: r.size, base: r.base })),
          expected,
        );
        assert.deepEqual(warnings, []);
      }
    });

    void it('reports a process unlinked from the task list in guest RAM as hidden, with pid and name', () => {
      const warnings: IntrospectionWarning[] = [];
      const context = { profile: live, warn: (w: IntrospectionWarning) => warnings.push(w) };
      assert.deepEqual([...psxviewPlugin.run(context, { onlySuspicious: true })], []);
      const victim = psaux(live).rows.find((r) => r.args === 'nc -l -p 8080');
      assert.ok(victim !== undefined);
      // What a rootkit's list_del() does inside the guest, done from the host through the shared
      // memory backend: prev->next = next, next->prev = prev (include/linux/list.h).
      const node = victim.task + BigInt(live.symbols.offsetOf('task_struct', 'tasks'));
      const pointers = Buffer.from(live.kernel.read(node, 16));
      const next = pointers.readBigUInt64LE(0);
      const prev = pointers.readBigUInt64LE(8);
      const write = (va: bigint, value: bigint): void => {
        const hit = live.kernel.translate(va);
        assert.ok(hit.ok);
        const bytes = Buffer.alloc(8);
        bytes.writeBigUInt64LE(value);
        const fd = openSync(vm?.ramPath ?? '', 'r+');
        try {
          writeSync(fd, bytes, 0, 8, Number(hit.physical));
        } finally {
          closeSync(fd);
        }
      };
      write(prev, next);
      write(next + 8n, prev);
      live.walker.invalidate();
      assert.ok(![...pslistPlugin.run(context, {})].some((r) => r.pid === victim.pid));
      const hidden = [...psxviewPlugin.run(context, { onlySuspicious: true })];
      assert.deepEqual(
        hidden.map((r) => ({
          pid: r.pid,
          comm: r.comm,
          taskList: r.taskList,
          pidHash: r.pidHash,
          children: r.children,
        })),
        [{ pid: victim.pid, comm: 'nc', taskList: false, pidHash: true, children: true }],
      );
      assert.deepEqual(warnings, []);
    });
  },
);

function readMm(profile: KernelProfile, task: bigint): bigint {
  const offset = BigInt(profile.symbols.offsetOf('task_struct', 'mm'));
  return Buffer.from(profile.kernel.read(task + offset, 8)).readBigUInt64LE();
}
