import { hex } from '../../core/index.js';
import type { LinuxPlugin, PluginContext } from '../plugin.js';
import { readBootTimeNs } from './boot-time.js';
import { toRow, walkTasks, type PslistOptions, type PslistRow } from './pslist.js';
import { readU64 } from './task-reader.js';

export interface PsauxRow extends PslistRow {
  /** argv joined by spaces (as /proc/PID/cmdline with NULs shown as spaces); "" for kernel threads. */
  readonly args: string;
}

export interface PsauxOptions extends PslistOptions {
  /** Bytes of argv read per process at most. Default 128 KiB (MAX_ARG_STRLEN is 128 KiB). */
  readonly maxArgBytes?: number;
}

/**
 * `psaux`: pslist plus each process's full argv, read from its own user memory through its own page
 * tables (mm->pgd), between mm->arg_start and mm->arg_end (fs/proc/base.c get_mm_cmdline()).
 */
export const psauxPlugin: LinuxPlugin<PsauxRow, PsauxOptions> = {
  id: 'linux.psaux',
  version: '1.0.0',
  description: 'Processes with their command lines',
  requires: { symbols: ['init_task'], types: ['task_struct', 'mm_struct', 'cred'] },
  columns: [
    { name: 'PID', key: 'pid', type: 'int' },
    { name: 'PPID', key: 'ppid', type: 'int' },
    { name: 'UID', key: 'uid', type: 'int' },
    { name: 'CREATED', key: 'createTime', type: 'string' },
    { name: 'COMM', key: 'comm', type: 'string' },
    { name: 'ARGS', key: 'args', type: 'string' },
  ],
  *run(context: PluginContext, options: PsauxOptions): Generator<PsauxRow> {
    const maxArgBytes = options.maxArgBytes ?? 128 * 1024;
    const profile = context.profile;
    const bootNs = readBootTimeNs(profile, (w) => context.warn(w));
    for (const { info, thread, layout } of walkTasks(profile, (w) => context.warn(w), options)) {
      let args = '';
      if (info.mm !== 0n && info.cr3 !== 0n) {
        const start = readU64(profile, info.mm + BigInt(layout.mmArgStart));
        const end = readU64(profile, info.mm + BigInt(layout.mmArgEnd));
        // arg_start/arg_end are attacker-controlled: reject reversed or absurd ranges.
        if (start === undefined || end === undefined || end < start) {
          context.warn({
            code: 'bad-length',
            message: `Process ${info.pid} has an unreadable or reversed argument range`,
            address: info.mm,
          });
        } else {
          let length = Number(
            end - start > BigInt(maxArgBytes) ? BigInt(maxArgBytes) : end - start,
          );
          if (end - start > BigInt(maxArgBytes)) {
            context.warn({
              code: 'bad-length',
              message: `Process ${info.pid} has ${end - start} bytes of arguments: only ${maxArgBytes} are read`,
              address: start,
            });
            length = maxArgBytes;
          }
          try {
            const bytes = profile.addressSpace(info.cr3).read(start, length);
            args = Buffer.from(bytes).toString('latin1').replaceAll('\0', ' ').trimEnd();
          } catch (error) {
            context.warn({
              code: 'unreadable-memory',
              message: `Cannot read the arguments of process ${info.pid} at ${hex(start)}: ${(error as Error).message}`,
              address: start,
            });
          }
        }
      }
      yield { ...toRow(info, thread, bootNs), args };
    }
  },
};
