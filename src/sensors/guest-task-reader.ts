import {
  CR3_ADDRESS_MASK,
  PAGING_4_LEVEL,
  PageTableWalker,
  VirtualLayer,
  openRawLayer,
  type PagingMode,
  type PhysicalLayer,
} from '../layers/index.js';
import type { GuestProcess } from '../events/index.js';
import { SymbolTable, buildIsf, loadVmlinuxBtf } from '../symbols/index.js';

/** Byte offsets of the kernel struct members a sensor reads (from BTF, never hand-written). */
export interface TaskLayout {
  readonly pid: number;
  readonly tgid: number;
  readonly comm: number;
  /** `task_struct.mm`: NULL for kernel threads. */
  readonly mm: number;
  /** `mm_struct.pgd`: the process's top page table, a direct-map address. */
  readonly mmPgd: number;
  /** `mm_struct.arg_start`: where argv's strings start on the process's stack. */
  readonly mmArgStart: number;
  /** `task_struct.tasks`: the list_head linking every task from `init_task`. */
  readonly tasks: number;
}

/** `TASK_COMM_LEN` (include/linux/sched.h). */
const TASK_COMM_LENGTH = 16;
/** Longest argv[0] kept as a program key. */
const MAX_PROGRAM_LENGTH = 256;

/**
 * The struct offsets of a kernel, from its symbol table (BTF types).
 *
 * @example
 * ```ts
 * import { taskLayoutFromSymbols } from './guest-task-reader.js';
 * declare const table: import('../symbols/index.js').SymbolTable;
 * taskLayoutFromSymbols(table); // { pid: 2416, tgid: 2420, comm: 2976, mm: 2272, mmPgd: 72, mmArgStart: 312 } on Debian 6.1.0-56
 * ```
 */
export function taskLayoutFromSymbols(table: SymbolTable): TaskLayout {
  return {
    pid: table.offsetOf('task_struct', 'pid'),
    tgid: table.offsetOf('task_struct', 'tgid'),
    comm: table.offsetOf('task_struct', 'comm'),
    mm: table.offsetOf('task_struct', 'mm'),
    mmPgd: table.offsetOf('mm_struct', 'pgd'),
    mmArgStart: table.offsetOf('mm_struct', 'arg_start'),
    tasks: table.offsetOf('task_struct', 'tasks'),
  };
}

/**
 * The struct offsets of the kernel in a vmlinux file, from its `.BTF` section.
 *
 * @example
 * ```ts
 * import { taskLayoutFromVmlinux } from './guest-task-reader.js';
 * (await taskLayoutFromVmlinux('.vmsight/lab/guest-6.1.0-56-amd64-…/vmlinux')).comm; // 2976
 * ```
 */
export async function taskLayoutFromVmlinux(vmlinuxPath: string): Promise<TaskLayout> {
  const isf = buildIsf({ btf: await loadVmlinuxBtf(vmlinuxPath), symbols: [], slide: 0n });
  return taskLayoutFromSymbols(new SymbolTable(isf));
}

/** Looks up the guest process a `task_struct` address stands for. */
export interface TaskReader {
  /**
   * The task at kernel address `task`, read through page tables rooted at `cr3` (any CR3 maps
   * the kernel); undefined when unreadable.
   */
  read(task: bigint, cr3: bigint): GuestProcess | undefined;
  /**
   * The task whose address space `cr3` is (its `mm->pgd`), found by walking the task list; for
   * syscalls seen before the first context switch. Undefined when not found or not supported.
   */
  findByCr3?(cr3: bigint): { readonly task: bigint; readonly process: GuestProcess } | undefined;
  close(): void;
}

export interface RamTaskReaderOptions {
  readonly mode?: PagingMode;
  /** Runtime address of `init_task`, the head of the task list; enables `findByCr3`. */
  readonly initTask?: bigint;
  /** Most tasks walked per `findByCr3` (the list is guest-controlled and may loop). Default 32,768. */
  readonly maxTasks?: number;
}

/** CR3 bits that are not the table address: PCID (11:0), and bit 12 set in PTI user CR3 (lab-notes pitfalls). */
const PTI_USER_BIT = 0x1000n;

/**
 * Reads tasks from live guest RAM (the shared memory backend file, lab-notes §10).
 *
 * `programKey` comes from the comm and `argv[0]` (read from `mm->arg_start` in the process's own
 * address space), see {@link programKey}. Not `exe_file`: busybox applets all run /bin/busybox, so
 * only these names tell `ls` from `nc`. Both are chosen by the guest: names, not proof.
 *
 * Guest memory is attacker-controlled: strings are cut at their NUL or a fixed length, and page
 * tables are re-read on every lookup because the guest frees and reuses them while it runs.
 *
 * @example
 * ```ts
 * import { RamTaskReader } from './guest-task-reader.js';
 * declare const layout: import('./guest-task-reader.js').TaskLayout;
 * const reader = RamTaskReader.open('/dev/shm/vmsight-lab', layout);
 * reader.read(0xffff888005172100n, 0x6418000n); // { pid: 1, tgid: 1, comm: 'init', programKey: '/init' }
 * reader.close();
 * ```
 */
export class RamTaskReader implements TaskReader {
  readonly #layer: PhysicalLayer;
  readonly #walker: PageTableWalker;
  readonly #layout: TaskLayout;
  readonly #initTask: bigint | undefined;
  readonly #maxTasks: number;

  constructor(layer: PhysicalLayer, layout: TaskLayout, options: RamTaskReaderOptions = {}) {
    this.#layer = layer;
    this.#walker = new PageTableWalker(layer, options.mode ?? PAGING_4_LEVEL, { maxPages: 64 });
    this.#layout = layout;
    this.#initTask = options.initTask;
    this.#maxTasks = options.maxTasks ?? 32_768;
  }

  static open(
    ramPath: string,
    layout: TaskLayout,
    options: RamTaskReaderOptions = {},
  ): RamTaskReader {
    return new RamTaskReader(openRawLayer(ramPath, { cache: false, ram: true }), layout, options);
  }

  findByCr3(cr3: bigint): { task: bigint; process: GuestProcess } | undefined {
    if (this.#initTask === undefined) return undefined;
    this.#walker.invalidate();
    const kernel = new VirtualLayer(this.#walker, cr3 & CR3_ADDRESS_MASK);
    const wanted = cr3 & CR3_ADDRESS_MASK & ~PTI_USER_BIT;
    const offset = BigInt(this.#layout.tasks);
    const head = this.#initTask + offset;
    try {
      let link = readUint64(kernel, head);
      for (let i = 0; i < this.#maxTasks && link !== head; i += 1) {
        const task = link - offset;
        const mm = readUint64(kernel, task + BigInt(this.#layout.mm));
        if (mm !== 0n) {
          const pgd = kernel.translate(readUint64(kernel, mm + BigInt(this.#layout.mmPgd)));
          if (pgd.ok && pgd.physical === wanted) {
            const process = this.read(task, cr3);
            return process === undefined ? undefined : { task, process };
          }
        }
        link = readUint64(kernel, link);
      }
    } catch {
      // A task freed under us, or a corrupted list: no answer rather than a wrong one.
    }
    return undefined;
  }

  read(task: bigint, cr3: bigint): GuestProcess | undefined {
    this.#walker.invalidate();
    const kernel = new VirtualLayer(this.#walker, cr3 & CR3_ADDRESS_MASK);
    const layout = this.#layout;
    try {
      const pid = readInt32(kernel, task + BigInt(layout.pid));
      const tgid = readInt32(kernel, task + BigInt(layout.tgid));
      const comm = readCString(kernel, task + BigInt(layout.comm), TASK_COMM_LENGTH);
      return { pid, tgid, comm, programKey: programKey(comm, this.#argv0(kernel, task)) };
    } catch {
      return undefined;
    }
  }

  #argv0(kernel: VirtualLayer, task: bigint): string | undefined {
    try {
      const mm = readUint64(kernel, task + BigInt(this.#layout.mm));
      if (mm === 0n) return undefined;
      const pgd = readUint64(kernel, mm + BigInt(this.#layout.mmPgd));
      const argStart = readUint64(kernel, mm + BigInt(this.#layout.mmArgStart));
      const translated = kernel.translate(pgd);
      if (!translated.ok || argStart === 0n) return undefined;
      const user = new VirtualLayer(this.#walker, translated.physical & CR3_ADDRESS_MASK);
      return readCString(user, argStart, MAX_PROGRAM_LENGTH);
    } catch {
      return undefined;
    }
  }

  /** The address space whose page tables `cr3` roots, for reading syscall arguments. */
  addressSpace(cr3: bigint): VirtualLayer {
    this.#walker.invalidate();
    return new VirtualLayer(this.#walker, cr3 & CR3_ADDRESS_MASK);
  }

  close(): void {
    this.#layer.close();
  }
}

/**
 * The name a process's syscalls are modelled under:
 * - argv[0] when the comm is its basename (cut to 15 bytes, as fs/exec.c sets it): the path as
 *   the program was started, `/tmp/sysprobe`;
 * - argv[0] when the comm is "exe": busybox runs applets by exec of /proc/self/exe with
 *   argv[0] = the applet;
 * - otherwise the comm: kernel threads (no mm), and tasks that renamed themselves with
 *   prctl(PR_SET_NAME), as busybox does for applets it runs in a forked child without exec.
 *
 * @example
 * ```ts
 * import { programKey } from './guest-task-reader.js';
 * programKey('exe', 'ls'); // 'ls'
 * programKey('ls', 'sh'); // 'ls'
 * programKey('sysprobe', '/tmp/sysprobe'); // '/tmp/sysprobe'
 * ```
 */
export function programKey(comm: string, argv0: string | undefined): string {
  if (argv0 === undefined || argv0 === '') return comm;
  if (comm === 'exe') return argv0;
  const base = argv0.slice(argv0.lastIndexOf('/') + 1).slice(0, TASK_COMM_LENGTH - 1);
  return base === comm ? argv0 : comm;
}

function readInt32(space: VirtualLayer, address: bigint): number {
  const bytes = space.read(address, 4);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
}

export function readUint64(space: VirtualLayer, address: bigint): bigint {
  const bytes = space.read(address, 8);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

/**
 * A NUL-terminated string from guest memory, read up to each page end so it never touches a page
 * it does not need. Cut at `max` bytes, decoded as latin1 (guest bytes, not trusted to be UTF-8).
 */
export function readCString(space: VirtualLayer, address: bigint, max: number): string {
  const parts: Buffer[] = [];
  let length = 0;
  let at = address;
  while (length < max) {
    const toPageEnd = 0x1000 - Number(at & 0xfffn);
    const bytes = Buffer.from(space.read(at, Math.min(toPageEnd, max - length)));
    const end = bytes.indexOf(0);
    if (end >= 0) {
      parts.push(bytes.subarray(0, end));
      break;
    }
    parts.push(bytes);
    length += bytes.length;
    at += BigInt(bytes.length);
  }
  return Buffer.concat(parts).toString('latin1');
}
