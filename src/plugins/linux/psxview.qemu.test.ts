import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openKernelProfile, type KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';
import { PS_WORKLOAD, PatchedLayer } from './_lab-ps-support.js';
import { pslistPlugin } from './pslist.js';
import { psxviewPlugin, type PsxviewRow } from './psxview.js';
import { runQueueTasks } from './run-queues.js';
import { startPausedPsGuest, type PausedPsGuest } from './internal-test/paused-ps-guest.js';

/** `yes` never sleeps: it is always runnable, so it is on CPU 0's run queue whenever paused. */
const BUSY_WORKLOAD = `yes > /dev/null &\n${PS_WORKLOAD}`;

function psxview(profile: KernelProfile) {
  const warnings: IntrospectionWarning[] = [];
  const rows: PsxviewRow[] = [...psxviewPlugin.run({ profile, warn: (w) => warnings.push(w) }, {})];
  return { rows, warnings };
}

/** The physical address behind a kernel virtual address, to patch the dump there. */
function physicalOf(profile: KernelProfile, va: bigint): bigint {
  const hit = profile.kernel.translate(va);
  assert.ok(hit.ok);
  return hit.physical;
}

void describe('psxview run-queue view on the lab guest', { timeout: 600_000 }, () => {
  let fixture: PausedPsGuest | undefined;
  before(async () => {
    fixture = await startPausedPsGuest({ workload: BUSY_WORKLOAD });
  });
  after(() => fixture?.close());

  void it('finds the busy-looping process on the run queue, live and from the dump', () => {
    const { live, fromDump } = fixture as PausedPsGuest;
    for (const profile of [live, fromDump]) {
      const { rows, warnings } = psxview(profile);
      assert.deepEqual(warnings, []);
      const busy = rows.find((r) => r.comm === 'yes');
      assert.ok(busy !== undefined, 'yes is listed');
      assert.equal(busy.state, 'R');
      assert.equal(busy.runQueue, true);
      // The sleepers are not runnable: false there is the normal reading.
      const sleeper = rows.find((r) => r.comm === 'sleep');
      assert.equal(sleeper?.state, 'S');
      assert.equal(sleeper?.runQueue, false);
      assert.deepEqual(
        rows.filter((r) => r.suspicious),
        [],
      );
    }
  });

  void it('sees only tasks that are in the task list, the idle task among them', () => {
    const { live } = fixture as PausedPsGuest;
    const warnings: IntrospectionWarning[] = [];
    const listed = new Set(
      [
        ...pslistPlugin.run({ profile: live, warn: (w) => warnings.push(w) }, { threads: true }),
      ].map((r) => r.task),
    );
    listed.add(live.symbols.requireAddress('init_task'));
    const queued = [...runQueueTasks(live, { warn: (w) => warnings.push(w) })];
    assert.ok(queued.length >= 2, `run queues hold ${queued.length} tasks`);
    for (const { task, slot } of queued) assert.ok(listed.has(task), `${slot} task ${task}`);
    assert.ok(
      queued.some((q) => q.slot === 'idle' && q.task === live.symbols.address('init_task')),
    );
    assert.deepEqual(warnings, []);
  });

  void it('survives a CFS tree with a loop and an unmapped child: warnings, no hang', async () => {
    const { core, fromDump, vmlinux } = fixture as PausedPsGuest;
    const symbols = fromDump.symbols;
    const busy = psxview(fromDump).rows.find((r) => r.comm === 'yes');
    assert.ok(busy !== undefined);
    const physical = (va: bigint): bigint => physicalOf(fromDump, va);
    // CPU 0's rq (nr_cpu_ids is 1 in the lab): make yes's run_node the tree's root, its left child
    // itself and its right child an address beyond guest RAM.
    const offset = Buffer.from(
      fromDump.kernel.read(symbols.requireAddress('__per_cpu_offset'), 8),
    ).readBigUInt64LE();
    const rq = symbols.requireAddress('runqueues') + offset;
    const root =
      rq + BigInt(symbols.offsetOf('rq', 'cfs') + symbols.offsetOf('cfs_rq', 'tasks_timeline'));
    const node =
      busy.task +
      BigInt(symbols.offsetOf('task_struct', 'se') + symbols.offsetOf('sched_entity', 'run_node'));
    const layer = new PatchedLayer(core.layer)
      .patchU64(physical(root), node)
      .patchU64(physical(node + BigInt(symbols.offsetOf('rb_node', 'rb_left'))), node)
      .patchU64(
        physical(node + BigInt(symbols.offsetOf('rb_node', 'rb_right'))),
        0xffff_8880_7fff_0000n,
      );
    const corrupt = await openKernelProfile(layer, {
      vmcoreinfo: core.vmcoreinfo,
      kernel: vmlinux,
    });
    const started = Date.now();
    const { rows, warnings } = psxview(corrupt);
    assert.ok(Date.now() - started < 10_000);
    const codes = new Set(warnings.map((w) => w.code));
    assert.ok(codes.has('list-loop'), JSON.stringify([...codes]));
    assert.ok(codes.has('unreadable-memory'));
    assert.equal(rows.find((r) => r.comm === 'yes')?.runQueue, true);
  });

  void it('reports a running process unlinked from the task list, seen on the run queue', async () => {
    const { core, fromDump, vmlinux } = fixture as PausedPsGuest;
    const busy = psxview(fromDump).rows.find((r) => r.comm === 'yes');
    assert.ok(busy !== undefined);
    const physical = (va: bigint): bigint => physicalOf(fromDump, va);
    // list_del() of yes's tasks node, as a rootkit in the guest would do it.
    const node = busy.task + BigInt(fromDump.symbols.offsetOf('task_struct', 'tasks'));
    const pointers = Buffer.from(fromDump.kernel.read(node, 16));
    const next = pointers.readBigUInt64LE(0);
    const prev = pointers.readBigUInt64LE(8);
    const layer = new PatchedLayer(core.layer)
      .patchU64(physical(prev), next)
      .patchU64(physical(next + 8n), prev);
    const hidden = await openKernelProfile(layer, { vmcoreinfo: core.vmcoreinfo, kernel: vmlinux });
    const { rows, warnings } = psxview(hidden);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      rows
        .filter((r) => r.suspicious)
        .map((r) => ({ pid: r.pid, comm: r.comm, taskList: r.taskList, runQueue: r.runQueue })),
      [{ pid: busy.pid, comm: 'yes', taskList: false, runQueue: true }],
    );
  });
});
