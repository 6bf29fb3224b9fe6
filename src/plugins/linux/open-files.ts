import { hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning, SymbolTable } from '../../symbols/index.js';
import {
  filePathLayout,
  readFileInfo,
  taskRoot,
  type FileInfo,
  type FilePathLayout,
} from './file-path.js';
import { walkTasks } from './pslist.js';
import type { TaskInfo } from './task-reader.js';

export interface OpenFilesLayout {
  readonly taskFiles: number;
  readonly taskFs: number;
  readonly fsRoot: number;
  readonly pathDentry: number;
  readonly filesFdt: number;
  readonly fdtMaxFds: number;
  readonly fdtFd: number;
  readonly path: FilePathLayout;
}

export function openFilesLayout(symbols: SymbolTable): OpenFilesLayout {
  return {
    taskFiles: symbols.offsetOf('task_struct', 'files'),
    taskFs: symbols.offsetOf('task_struct', 'fs'),
    fsRoot: symbols.offsetOf('fs_struct', 'root'),
    pathDentry: symbols.offsetOf('path', 'dentry'),
    filesFdt: symbols.offsetOf('files_struct', 'fdt'),
    fdtMaxFds: symbols.offsetOf('fdtable', 'max_fds'),
    fdtFd: symbols.offsetOf('fdtable', 'fd'),
    path: filePathLayout(symbols),
  };
}

export interface OpenFilesOptions {
  /** Only these processes (by pid). */
  readonly pids?: readonly number[];
  /**
   * File descriptors read per process at most. Default 1,048,576 (fs.nr_open's default, the most
   * a process can have unless an administrator raised it).
   */
  readonly maxFds?: number;
}

/** fd slots read per guest read: one page of pointers. */
const FD_CHUNK = 512;

/**
 * The open files of one task: task->files->fdt, whose `fd` array holds max_fds pointers
 * (include/linux/fdtable.h; NULL for a closed descriptor). max_fds is attacker-controlled: it is
 * capped at `maxFds` with a warning, and an unreadable chunk of the array ends the walk.
 */
export function* walkOpenFiles(
  profile: KernelProfile,
  layout: OpenFilesLayout,
  task: TaskInfo,
  warn: (warning: IntrospectionWarning) => void,
  maxFds = 1_048_576,
): Generator<{ fd: number; file: bigint }> {
  let files: bigint;
  let fdt: DataView;
  try {
    const filesRaw = profile.kernel.read(task.task + BigInt(layout.taskFiles), 8);
    files = new DataView(filesRaw.buffer, filesRaw.byteOffset, 8).getBigUint64(0, true);
    if (files === 0n) return; // an exiting task, or a kernel thread without a table
    const fdtRaw = profile.kernel.read(files + BigInt(layout.filesFdt), 8);
    const table = new DataView(fdtRaw.buffer, fdtRaw.byteOffset, 8).getBigUint64(0, true);
    const raw = profile.kernel.read(table, Math.max(layout.fdtMaxFds + 4, layout.fdtFd + 8));
    fdt = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  } catch (error) {
    warn({
      code: 'unreadable-memory',
      message: `Cannot read the file table of process ${task.pid}: ${(error as Error).message}`,
      address: task.task,
    });
    return;
  }
  let maxFdsRead = fdt.getUint32(layout.fdtMaxFds, true);
  if (maxFdsRead > maxFds) {
    warn({
      code: 'bad-length',
      message: `Process ${task.pid} has a file table of ${maxFdsRead} descriptors: only ${maxFds} are read`,
      address: files,
    });
    maxFdsRead = maxFds;
  }
  const array = fdt.getBigUint64(layout.fdtFd, true);
  for (let base = 0; base < maxFdsRead; base += FD_CHUNK) {
    const count = Math.min(FD_CHUNK, maxFdsRead - base);
    const at = array + BigInt(base * 8);
    let chunk: DataView;
    try {
      const raw = profile.kernel.read(at, count * 8);
      chunk = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    } catch (error) {
      warn({
        code: 'unreadable-memory',
        message: `Cannot read descriptors ${base}.. of process ${task.pid} at ${hex(at)}: ${(error as Error).message}`,
        address: at,
      });
      return;
    }
    for (let i = 0; i < count; i += 1) {
      const file = chunk.getBigUint64(i * 8, true);
      if (file !== 0n) yield { fd: base + i, file };
    }
  }
}

function unreadableFile(file: bigint): FileInfo {
  return { file, path: undefined, inode: 0n, ino: 0n, dev: 0, magic: 0n, privateData: 0n };
}

/**
 * Every open file of every process (thread-group leaders: threads share the table unless
 * CLONE_FILES was not given, which /proc/PID/fd does not show either), with its path from the
 * process's own root. Kernel threads are included: they share init_files, normally empty, so a
 * file one holds stands out.
 */
export function* processFiles(
  profile: KernelProfile,
  warn: (warning: IntrospectionWarning) => void,
  options: OpenFilesOptions,
): Generator<{ task: TaskInfo; fd: number; info: FileInfo }> {
  const layout = openFilesLayout(profile.symbols);
  const wanted = options.pids === undefined ? undefined : new Set(options.pids);
  for (const { info: task } of walkTasks(profile, warn)) {
    if (wanted !== undefined && !wanted.has(task.pid)) continue;
    const root = taskRoot(profile, task.task, layout);
    for (const { fd, file } of walkOpenFiles(profile, layout, task, warn, options.maxFds)) {
      // An unreadable struct file still yields its descriptor, without a path.
      const info = readFileInfo(profile, layout.path, file, warn, root) ?? unreadableFile(file);
      yield { task, fd, info };
    }
  }
}
