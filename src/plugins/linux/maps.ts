import { hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';
import type { LinuxPlugin, PluginContext } from '../plugin.js';
import { readFileInfo, taskRoot } from './file-path.js';
import { openFilesLayout } from './open-files.js';
import { walkTasks } from './pslist.js';
import { readU64 } from './task-reader.js';
import { vmaLayout, walkVmas, type VmaInfo } from './vma-reader.js';

export interface MapsRow {
  readonly pid: number;
  readonly comm: string;
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
  /** "rwxp" as /proc/PID/maps prints it: read, write, exec, then s(hared) or p(rivate). */
  readonly flags: string;
  /** Byte offset in the file (vm_pgoff << PAGE_SHIFT); 0 for anonymous memory. */
  readonly pgoff: bigint;
  readonly major: number;
  readonly minor: number;
  readonly inode: bigint;
  /** The file's path, "[heap]", "[stack]", "[vdso]", "[vvar]", or "" for other anonymous memory. */
  readonly path: string | undefined;
  readonly vma: bigint;
}

export interface MapsOptions {
  /** Only these processes (by pid). */
  readonly pids?: readonly number[];
  /** VMAs read per process at most. Default 262,144. */
  readonly maxVmas?: number;
}

/** include/linux/mm.h VM_READ, VM_WRITE, VM_EXEC, VM_MAYSHARE. */
const VM_READ = 0x1n;
const VM_WRITE = 0x2n;
const VM_EXEC = 0x4n;
const VM_MAYSHARE = 0x80n;
const PAGE_SHIFT = 12n;
/** Longest special-mapping name read ("[vdso]", "[vvar]", "[uprobes]"). */
const MAX_SPECIAL_NAME = 64;

function flagString(flags: bigint): string {
  return (
    ((flags & VM_READ) !== 0n ? 'r' : '-') +
    ((flags & VM_WRITE) !== 0n ? 'w' : '-') +
    ((flags & VM_EXEC) !== 0n ? 'x' : '-') +
    ((flags & VM_MAYSHARE) !== 0n ? 's' : 'p')
  );
}

/** A NUL-terminated string of at most `max` bytes that may end just before an unmapped page. */
function readCString(profile: KernelProfile, address: bigint, max: number): string | undefined {
  const toPageEnd = Number(0x1000n - (address & 0xfffn));
  for (const length of [max, Math.min(max, toPageEnd)]) {
    try {
      const bytes = Buffer.from(profile.kernel.read(address, length));
      const nul = bytes.indexOf(0);
      return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('latin1');
    } catch {
      // try the shorter read
    }
  }
  return undefined;
}

/**
 * `maps`: each process's memory regions as /proc/PID/maps shows them (fs/proc/task_mmu.c
 * show_map_vma()): file-backed regions with the file's device, inode, offset and path; anonymous
 * ones named "[heap]" (the region overlapping start_brk..brk), "[stack]" (the one holding
 * start_stack) and special mappings by their vm_special_mapping name ("[vdso]", "[vvar]").
 * Not reproduced: "[anon:NAME]" (CONFIG_ANON_VMA_NAME, off in Debian 6.1), the "[vsyscall]" gate
 * area (absent with Debian's LEGACY_VSYSCALL_NONE), and other vm_ops->name() providers.
 */
export const mapsPlugin: LinuxPlugin<MapsRow, MapsOptions> = {
  id: 'linux.maps',
  version: '1.0.0',
  description: 'Memory regions of each process',
  requires: {
    symbols: ['init_task'],
    types: ['task_struct', 'mm_struct', 'vm_area_struct', 'file', 'dentry', 'mount', 'inode'],
  },
  columns: [
    { name: 'PID', key: 'pid', type: 'int' },
    { name: 'COMM', key: 'comm', type: 'string' },
    { name: 'START', key: 'start', type: 'address', hint: 'hex' },
    { name: 'END', key: 'end', type: 'address', hint: 'hex' },
    { name: 'FLAGS', key: 'flags', type: 'string' },
    { name: 'PGOFF', key: 'pgoff', type: 'address', hint: 'hex' },
    { name: 'MAJOR', key: 'major', type: 'int' },
    { name: 'MINOR', key: 'minor', type: 'int' },
    { name: 'INODE', key: 'inode', type: 'int' },
    { name: 'PATH', key: 'path', type: 'string' },
  ],
  *run(context: PluginContext, options: MapsOptions): Generator<MapsRow> {
    const { profile } = context;
    const symbols = profile.symbols;
    const warn = (w: IntrospectionWarning): void => context.warn(w);
    const layout = vmaLayout(symbols);
    const files = openFilesLayout(symbols);
    const mmField = (name: string): bigint => BigInt(symbols.offsetOf('mm_struct', name));
    const startBrk = mmField('start_brk');
    const brk = mmField('brk');
    const startStack = mmField('start_stack');
    const specialOps = symbols.address('special_mapping_vmops');
    const specialName = BigInt(symbols.member('vm_special_mapping', 'name')?.offset ?? 0);
    const wanted = options.pids === undefined ? undefined : new Set(options.pids);
    for (const { info: task } of walkTasks(profile, warn)) {
      if (wanted !== undefined && !wanted.has(task.pid)) continue;
      if (task.mm === 0n) continue;
      const heap = [readU64(profile, task.mm + startBrk), readU64(profile, task.mm + brk)];
      const stack = readU64(profile, task.mm + startStack);
      const root = taskRoot(profile, task.task, files);
      const anonymousName = (vma: VmaInfo): string => {
        if (vma.ops !== 0n && vma.ops === specialOps && vma.privateData !== 0n) {
          const pointer = readU64(profile, vma.privateData + specialName);
          const name =
            pointer === undefined ? undefined : readCString(profile, pointer, MAX_SPECIAL_NAME);
          if (name !== undefined) return name;
          warn({
            code: 'unreadable-memory',
            message: `Cannot read the name of special mapping ${hex(vma.vma)} of process ${task.pid}`,
            address: vma.privateData,
          });
        }
        const [heapStart, heapEnd] = heap;
        if (heapStart !== undefined && heapEnd !== undefined) {
          if (vma.start <= heapEnd && vma.end >= heapStart) return '[heap]';
        }
        if (stack !== undefined && vma.start <= stack && vma.end >= stack) return '[stack]';
        return '';
      };
      for (const vma of walkVmas(profile, layout, task.mm, { warn, maxVmas: options.maxVmas })) {
        let path: string | undefined;
        let dev = 0;
        let inode = 0n;
        let pgoff = 0n;
        if (vma.file !== 0n) {
          const file = readFileInfo(profile, files.path, vma.file, warn, root);
          path = file?.path;
          dev = file?.dev ?? 0;
          inode = file?.ino ?? 0n;
          pgoff = (vma.pgoff << PAGE_SHIFT) & 0xffff_ffff_ffff_ffffn;
        } else {
          path = anonymousName(vma);
        }
        yield {
          pid: task.pid,
          comm: task.comm,
          start: vma.start,
          end: vma.end,
          flags: flagString(vma.flags),
          pgoff,
          major: dev >>> 20,
          minor: dev & 0xfffff,
          inode,
          path,
          vma: vma.vma,
        };
      }
    }
  },
};
