/**
 * Test support: a small made-up kernel — sparse memory that throws on unmapped pages and an ISF
 * whose struct layouts are chosen here — to drive the file and memory-map readers through shapes
 * the lab kernel never shows (the pre-6.1 VMA list, loops, absurd lengths, unmapped pointers).
 */
import type { KernelProfile } from '../../../profiles/index.js';
import { SymbolTable, type IsfDocument, type IsfUserType } from '../../../symbols/index.js';

const PAGE = 0x1000n;
export const ULONG_MAX = 0xffff_ffff_ffff_ffffn;

/** mt_mk_node(): node | type << 3 | MAPLE_ENODE_NULL; mte_mk_root() adds 2 (include/linux/maple_tree.h). */
export const enode = (node: bigint, type: number): bigint => node | (BigInt(type) << 3n) | 4n;

/**
 * Writes a maple_range_64 / maple_leaf_64 node (parent, pivot[15] at 8, slot[16] at 128, metadata
 * end at 248): one (pivot, slot) pair per slot in use; pivots past the 15th are implied.
 */
export function writeMapleNode(
  memory: SparseMemory,
  at: bigint,
  entries: readonly (readonly [bigint, bigint])[],
): void {
  entries.forEach(([pivot, slot], i) => {
    if (i < 15) memory.u64(at + 8n + BigInt(8 * i), pivot);
    memory.u64(at + 128n + BigInt(8 * i), slot);
  });
  memory.write(at + 248n, Uint8Array.of(entries.length - 1));
}

/** Kernel memory as 4 KiB pages; reads of an unmapped page throw like a failed translation. */
export class SparseMemory {
  readonly #pages = new Map<bigint, Uint8Array>();

  read(address: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const at = address + BigInt(done);
      const page = this.#pages.get(at & ~(PAGE - 1n));
      if (page === undefined) throw new RangeError(`unmapped 0x${at.toString(16)}`);
      const offset = Number(at & (PAGE - 1n));
      const count = Math.min(length - done, 0x1000 - offset);
      out.set(page.subarray(offset, offset + count), done);
      done += count;
    }
    return out;
  }

  write(address: bigint, bytes: Uint8Array): this {
    for (let i = 0; i < bytes.length; i += 1) {
      const at = address + BigInt(i);
      const base = at & ~(PAGE - 1n);
      let page = this.#pages.get(base);
      if (page === undefined) {
        page = new Uint8Array(0x1000);
        this.#pages.set(base, page);
      }
      page[Number(at - base)] = bytes[i] ?? 0;
    }
    return this;
  }

  u64(address: bigint, value: bigint): this {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt.asUintN(64, value));
    return this.write(address, bytes);
  }

  u32(address: bigint, value: number): this {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(value >>> 0);
    return this.write(address, bytes);
  }

  text(address: bigint, value: string): this {
    return this.write(address, Buffer.from(`${value}\0`, 'latin1'));
  }
}

function struct(size: number, fields: Record<string, number>): IsfUserType {
  const out: Record<string, { type: { kind: 'base'; name: string }; offset: number }> = {};
  for (const [name, offset] of Object.entries(fields)) {
    out[name] = { type: { kind: 'base', name: 'long' }, offset };
  }
  return { kind: 'struct', size, fields: out };
}

/** Member offsets of the made-up kernel (not Linux's: the readers take them from the table). */
export const LAYOUT = {
  task_struct: struct(128, {
    tasks: 0,
    thread_group: 16,
    pid: 32,
    tgid: 36,
    real_parent: 40,
    __state: 48,
    exit_state: 52,
    flags: 56,
    comm: 64,
    mm: 80,
    cred: 88,
    start_time: 96,
    files: 104,
    fs: 112,
  }),
  cred: struct(8, { uid: 4 }),
  maple_tree: struct(24, { ma_root: 8 }),
  vm_area_struct: struct(64, {
    vm_start: 0,
    vm_end: 8,
    vm_flags: 16,
    vm_pgoff: 24,
    vm_file: 32,
    vm_ops: 40,
    vm_private_data: 48,
    vm_next: 56,
  }),
  file: struct(48, { f_path: 16, f_inode: 32, private_data: 40 }),
  path: struct(16, { mnt: 0, dentry: 8 }),
  dentry: struct(64, { d_hash: 8, d_parent: 24, d_name: 32, d_sb: 48 }),
  qstr: struct(16, { len: 4, name: 8 }),
  mount: struct(48, { mnt_parent: 0, mnt_mountpoint: 8, mnt: 16 }),
  vfsmount: struct(8, { mnt_root: 0 }),
  inode: struct(24, { i_ino: 8, i_sb: 16 }),
  super_block: struct(16, { s_dev: 0, s_magic: 8 }),
  files_struct: struct(8, { fdt: 0 }),
  fdtable: struct(16, { max_fds: 0, fd: 8 }),
  fs_struct: struct(16, { root: 0 }),
  vm_special_mapping: struct(8, { name: 0 }),
  socket: struct(32, { sk: 8 }),
  sock: struct(128, { __sk_common: 0, sk_type: 100, sk_protocol: 102 }),
  sock_common: struct(96, {
    skc_daddr: 0,
    skc_rcv_saddr: 4,
    skc_dport: 12,
    skc_num: 14,
    skc_family: 16,
    skc_state: 18,
    skc_v6_daddr: 24,
    skc_v6_rcv_saddr: 40,
  }),
  unix_sock: struct(136, { addr: 128 }),
  unix_address: struct(8, { len: 4, name: 8 }),
} as const;

const MM_COMMON = { pgd: 0, arg_start: 8, arg_end: 16, start_brk: 24, brk: 32, start_stack: 40 };

export const INIT_TASK = 0xffff_8880_0010_0000n;

/**
 * A symbol table for the made-up kernel: with `vmaList`, mm_struct has `mmap` and the VMAs link
 * through `vm_next` (Linux before 6.1); otherwise mm_struct embeds the maple tree `mm_mt` at 48.
 */
export function syntheticSymbols(options: { readonly vmaList?: boolean } = {}): SymbolTable {
  const mm = struct(
    80,
    options.vmaList === true ? { ...MM_COMMON, mmap: 48 } : { ...MM_COMMON, mm_mt: 48 },
  );
  const isf: IsfDocument = {
    metadata: { format: '6.2.0', producer: { name: 'test', version: '0' } },
    base_types: {},
    enums: {},
    user_types: { ...LAYOUT, mm_struct: mm },
    symbols: { init_task: { address: INIT_TASK } },
  };
  return new SymbolTable(isf);
}

/** A KernelProfile over the sparse memory; only what the plugins read is real. */
export function syntheticProfile(memory: SparseMemory, symbols: SymbolTable): KernelProfile {
  const kernel = {
    read: (address: bigint, length: number) => memory.read(address, length),
    translate: (va: bigint) => ({ ok: true as const, physical: va }),
  };
  return { kernel, symbols } as unknown as KernelProfile;
}

/**
 * Writes init_task (a kernel thread) and one process linked after it, with the given mm, files
 * and fs pointers; returns the process's task address.
 */
export function writeTasks(
  memory: SparseMemory,
  process: { pid: number; comm: string; mm: bigint; files: bigint; fs: bigint },
): bigint {
  const task = INIT_TASK + 0x1000n;
  const cred = INIT_TASK + 0x2000n;
  for (const [at, pid, comm, mm, files, fs] of [
    [INIT_TASK, 0, 'swapper/0', 0n, 0n, 0n],
    [task, process.pid, process.comm, process.mm, process.files, process.fs],
  ] as const) {
    const other = at === INIT_TASK ? task : INIT_TASK;
    memory
      .u64(at, other) // tasks.next
      .u64(at + 8n, other) // tasks.prev
      .u64(at + 16n, at + 16n) // thread_group: empty
      .u64(at + 24n, at + 16n)
      .u32(at + 32n, pid)
      .u32(at + 36n, pid)
      .u64(at + 40n, INIT_TASK)
      .u32(at + 56n, at === INIT_TASK ? 0x0020_0000 : 0) // PF_KTHREAD
      .text(at + 64n, comm)
      .u64(at + 80n, mm)
      .u64(at + 88n, cred)
      .u64(at + 104n, files)
      .u64(at + 112n, fs);
  }
  memory.u32(cred + 4n, 0);
  return task;
}

/** RAMFS_MAGIC (include/uapi/linux/magic.h). */
const RAMFS_MAGIC = 0x8584_58f6n;
const FS_BASE = INIT_TASK + 0x10000n;

/**
 * A root mount of a ramfs holding /bin/busybox (inode 42, device 0:2), and a `struct file` for it
 * at `file`. Returns the addresses a test can corrupt.
 */
export function writeRootFs(memory: SparseMemory) {
  const mount = FS_BASE;
  const mnt = mount + 16n;
  const sb = FS_BASE + 0x100n;
  const inode = FS_BASE + 0x200n;
  const root = FS_BASE + 0x300n;
  const bin = FS_BASE + 0x400n;
  const busybox = FS_BASE + 0x500n;
  const file = FS_BASE + 0x600n;
  const fsStruct = FS_BASE + 0x700n;
  memory
    .u64(mount, mount)
    .u64(mount + 8n, root)
    .u64(mnt, root);
  memory.u32(sb, 2).u64(sb + 8n, RAMFS_MAGIC);
  memory.u64(inode + 8n, 42n).u64(inode + 16n, sb);
  const dentry = (at: bigint, parent: bigint, name: string): void => {
    memory
      .u64(at + 16n, 1n) // d_hash.pprev: hashed
      .u64(at + 24n, parent)
      .u32(at + 36n, name.length)
      .u64(at + 40n, at + 0x80n)
      .text(at + 0x80n, name)
      .u64(at + 48n, sb);
  };
  dentry(root, root, '/');
  dentry(bin, root, 'bin');
  dentry(busybox, bin, 'busybox');
  memory
    .u64(file + 16n, mnt)
    .u64(file + 24n, busybox)
    .u64(file + 32n, inode);
  memory.u64(fsStruct, mnt).u64(fsStruct + 8n, root);
  return { mount, mnt, sb, inode, root, bin, busybox, file, fsStruct };
}
