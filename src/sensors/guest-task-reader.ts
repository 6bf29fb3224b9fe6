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
import type { SymbolTable } from '../symbols/index.js';

/** Byte offsets of the `task_struct` members a sensor reads (from BTF, never hand-written). */
export interface TaskLayout {
  readonly pid: number;
  readonly tgid: number;
  readonly comm: number;
}

/** `TASK_COMM_LEN` (include/linux/sched.h). */
const TASK_COMM_LENGTH = 16;

/**
 * The `task_struct` offsets of a kernel, from its symbol table (BTF types).
 *
 * @example
 * ```ts
 * import { taskLayoutFromSymbols } from './guest-task-reader.js';
 * declare const table: import('../symbols/index.js').SymbolTable;
 * taskLayoutFromSymbols(table); // { pid: 2416, tgid: 2420, comm: 2976 } on Debian 6.1.0-56
 * ```
 */
export function taskLayoutFromSymbols(table: SymbolTable): TaskLayout {
  return {
    pid: table.offsetOf('task_struct', 'pid'),
    tgid: table.offsetOf('task_struct', 'tgid'),
    comm: table.offsetOf('task_struct', 'comm'),
  };
}

/** Looks up the guest process a `task_struct` address stands for. */
export interface TaskReader {
  /** The task at kernel address `task`, read through page tables rooted at `cr3`; undefined when unreadable. */
  read(task: bigint, cr3: bigint): GuestProcess | undefined;
  close(): void;
}

/**
 * Reads tasks from live guest RAM (the shared memory backend file, lab-notes §10). Guest memory is
 * attacker-controlled: a comm is cut at its NUL or 16 bytes and pid values are taken as they are.
 * Page-table pages are re-read on every lookup because the guest frees and reuses them while it
 * runs.
 *
 * @example
 * ```ts
 * import { RamTaskReader } from './guest-task-reader.js';
 * const reader = RamTaskReader.open('/dev/shm/vmsight-lab', { pid: 2416, tgid: 2420, comm: 2976 });
 * reader.read(0xffff888005172100n, 0x6418000n); // { pid: 1, tgid: 1, comm: 'init', programKey: 'init' }
 * reader.close();
 * ```
 */
export class RamTaskReader implements TaskReader {
  readonly #layer: PhysicalLayer;
  readonly #walker: PageTableWalker;
  readonly #layout: TaskLayout;

  constructor(layer: PhysicalLayer, layout: TaskLayout, mode: PagingMode = PAGING_4_LEVEL) {
    this.#layer = layer;
    this.#walker = new PageTableWalker(layer, mode, { maxPages: 64 });
    this.#layout = layout;
  }

  static open(ramPath: string, layout: TaskLayout, mode: PagingMode = PAGING_4_LEVEL): RamTaskReader {
    return new RamTaskReader(openRawLayer(ramPath, { cache: false, ram: true }), layout, mode);
  }

  read(task: bigint, cr3: bigint): GuestProcess | undefined {
    this.#walker.invalidate();
    const space = new VirtualLayer(this.#walker, cr3 & CR3_ADDRESS_MASK);
    try {
      const pid = readInt32(space, task + BigInt(this.#layout.pid));
      const tgid = readInt32(space, task + BigInt(this.#layout.tgid));
      const raw = space.read(task + BigInt(this.#layout.comm), TASK_COMM_LENGTH);
      const end = raw.indexOf(0);
      const comm = Buffer.from(raw.subarray(0, end < 0 ? raw.length : end)).toString('latin1');
      return { pid, tgid, comm, programKey: comm };
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.#layer.close();
  }
}

function readInt32(space: VirtualLayer, address: bigint): number {
  const bytes = space.read(address, 4);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
}
