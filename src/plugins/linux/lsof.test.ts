import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IntrospectionWarning } from '../../symbols/index.js';
import {
  INIT_TASK,
  SparseMemory,
  syntheticProfile,
  syntheticSymbols,
  writeRootFs,
  writeTasks,
} from './internal-test/synthetic-kernel.js';
import { lsofPlugin, type LsofOptions } from './lsof.js';

const FILES = INIT_TASK + 0x30000n;
const FDT = FILES + 0x100n;
const FD_ARRAY = FILES + 0x1000n;
const UNMAPPED = 0xffff_8880_7777_0000n;

/** A process with fd 0 and fd 2 on /bin/busybox and fd 3 on an unmapped struct file. */
function guest(maxFds: number) {
  const memory = new SparseMemory();
  const fs = writeRootFs(memory);
  writeTasks(memory, { pid: 7, comm: 'busybox', mm: 0n, files: FILES, fs: fs.fsStruct });
  memory
    .u64(FILES, FDT)
    .u32(FDT, maxFds)
    .u64(FDT + 8n, FD_ARRAY);
  // One page of descriptors is mapped; anything past fd 511 is not.
  memory
    .u64(FD_ARRAY, fs.file)
    .u64(FD_ARRAY + 16n, fs.file)
    .u64(FD_ARRAY + 24n, UNMAPPED);
  memory.u64(FD_ARRAY + 511n * 8n, 0n);
  return { memory, fs, symbols: syntheticSymbols() };
}

function lsof(g: ReturnType<typeof guest>, options: LsofOptions = {}) {
  const warnings: IntrospectionWarning[] = [];
  const rows = [
    ...lsofPlugin.run(
      { profile: syntheticProfile(g.memory, g.symbols), warn: (w) => warnings.push(w) },
      options,
    ),
  ].map((r) => ({ pid: r.pid, fd: r.fd, path: r.path, inode: r.inode }));
  return { rows, warnings };
}

const ROWS = [
  { pid: 7, fd: 0, path: '/bin/busybox', inode: 42n },
  { pid: 7, fd: 2, path: '/bin/busybox', inode: 42n },
  { pid: 7, fd: 3, path: undefined, inode: 0n },
];

void describe('lsof on a made-up kernel', () => {
  void it('lists descriptors with paths, and one whose struct file is unmapped without', () => {
    const { rows, warnings } = lsof(guest(64));
    assert.deepEqual(rows, ROWS);
    assert.deepEqual(
      warnings.map((w) => [w.code, w.address]),
      [['unreadable-memory', UNMAPPED]],
    );
  });

  void it('caps an absurd max_fds and stops at the first unreadable chunk, quickly', () => {
    const started = performance.now();
    const { rows, warnings } = lsof(guest(0xffff_ffff));
    assert.ok(performance.now() - started < 2000, 'bounded work');
    assert.deepEqual(rows, ROWS);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['bad-length', 'unreadable-memory', 'unreadable-memory'],
    );
    assert.match(warnings[0]?.message ?? '', /4294967295 descriptors: only 1048576 are read/);
    assert.match(warnings[2]?.message ?? '', /Cannot read descriptors 512\.\./);
  });

  void it('honours a lower maxFds and the pid filter', () => {
    assert.deepEqual(lsof(guest(64), { maxFds: 2 }).rows, ROWS.slice(0, 1));
    assert.deepEqual(lsof(guest(64), { pids: [8] }), { rows: [], warnings: [] });
  });

  void it('cuts a path whose dentry parents loop, with a warning', () => {
    const g = guest(4);
    // bin's parent is busybox, busybox's parent is bin: neither reaches the root.
    g.memory.u64(g.fs.bin + 24n, g.fs.busybox);
    const { rows, warnings } = lsof(g);
    assert.equal(rows.length, 3);
    assert.match(
      rows[0]?.path ?? '',
      /^\/(busybox\/bin\/)+busybox$|^\/(bin\/busybox\/)+bin\/busybox$/,
    );
    assert.ok((rows[0]?.path?.length ?? 0) <= 4096 + 'busybox/'.length, 'bounded path');
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['list-loop', 'list-loop', 'unreadable-memory'],
    );
  });

  void it('marks an unlinked file " (deleted)" like d_path()', () => {
    const g = guest(1);
    g.memory.u64(g.fs.busybox + 16n, 0n); // d_hash.pprev: unhashed
    assert.equal(lsof(g).rows[0]?.path, '/bin/busybox (deleted)');
  });
});
