import type { LinuxPlugin, PluginContext } from '../plugin.js';
import { processFiles, type OpenFilesOptions } from './open-files.js';

export interface LsofRow {
  readonly pid: number;
  readonly comm: string;
  readonly fd: number;
  /** As readlink(/proc/PID/fd/FD) shows it; undefined when guest memory did not allow it. */
  readonly path: string | undefined;
  /** inode->i_ino (the number inside "socket:[…]" and "pipe:[…]"). */
  readonly inode: bigint;
  readonly file: bigint;
}

export type LsofOptions = OpenFilesOptions;

/** `lsof`: open file descriptors per process, from task->files->fdt (include/linux/fdtable.h). */
export const lsofPlugin: LinuxPlugin<LsofRow, LsofOptions> = {
  id: 'linux.lsof',
  version: '1.0.0',
  description: 'Open files per process',
  requires: {
    symbols: ['init_task'],
    types: ['task_struct', 'files_struct', 'fdtable', 'file', 'dentry', 'mount', 'inode'],
  },
  columns: [
    { name: 'PID', key: 'pid', type: 'int' },
    { name: 'COMM', key: 'comm', type: 'string' },
    { name: 'FD', key: 'fd', type: 'int' },
    { name: 'INODE', key: 'inode', type: 'int' },
    { name: 'PATH', key: 'path', type: 'string' },
    { name: 'FILE', key: 'file', type: 'address', hint: 'hex' },
  ],
  *run(context: PluginContext, options: LsofOptions): Generator<LsofRow> {
    for (const { task, fd, info } of processFiles(
      context.profile,
      (w) => context.warn(w),
      options,
    )) {
      yield {
        pid: task.pid,
        comm: task.comm,
        fd,
        path: info.path,
        inode: info.ino,
        file: info.file,
      };
    }
  },
};
