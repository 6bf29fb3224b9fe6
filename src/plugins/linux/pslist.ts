import { hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';
import type { LinuxPlugin, PluginContext } from '../plugin.js';
import { instantAfterBoot, readBootTimeNs } from './boot-time.js';
import { walkList } from './list-walker.js';
import { readTask, taskLayout, type TaskInfo, type TaskLayout } from './task-reader.js';

export interface PslistRow {
  readonly pid: number;
  readonly ppid: number;
  readonly tgid: number;
  readonly uid: number | undefined;
  readonly comm: string;
  readonly state: string;
  /** Seconds since boot, from task_struct.start_time (ns). */
  readonly startTime: number;
  /**
   * When the process was created, ISO-8601 UTC (`CREATION TIME` in Volatility 3's linux.pslist):
   * the boot instant plus task_struct.start_boottime, as /proc/PID/stat's starttime plus /proc/stat's
   * btime. Undefined when the boot time cannot be read.
   */
  readonly createTime: string | undefined;
  readonly cr3: bigint;
  readonly task: bigint;
  /** True for a thread that is not its group's leader (`--threads`). */
  readonly thread: boolean;
  readonly kernelThread: boolean;
}

export interface PslistOptions {
  /** Also list each process's other threads (task_struct.thread_group). */
  readonly threads?: boolean;
  /** Tasks listed at most. Default 1,000,000. */
  readonly maxTasks?: number;
}

/** `bootNs`: the boot instant from readBootTimeNs(), ns since the Unix epoch. */
export function toRow(info: TaskInfo, thread: boolean, bootNs: bigint | undefined): PslistRow {
  return {
    pid: info.pid,
    ppid: info.ppid,
    tgid: info.tgid,
    uid: info.uid,
    comm: info.comm,
    state: info.state,
    startTime: Number(info.startTimeNs) / 1e9,
    createTime: instantAfterBoot(bootNs, info.startBoottimeNs),
    cr3: info.cr3,
    task: info.task,
    thread,
    kernelThread: info.kernelThread,
  };
}

/**
 * The processes of the guest: `init_task.tasks` walked with loop detection (include/linux/sched.h:
 * the `tasks` list links thread-group leaders), and with `threads`, each leader's `thread_group`.
 * Yields the decoded task for each entry, init_task first.
 */
export function* walkTasks(
  profile: KernelProfile,
  warn: (warning: IntrospectionWarning) => void,
  options: PslistOptions = {},
): Generator<{ info: TaskInfo; thread: boolean; layout: TaskLayout }> {
  const layout = taskLayout(profile.symbols);
  const initTask = profile.symbols.requireAddress('init_task');
  const maxTasks = options.maxTasks ?? 1_000_000;
  const leaders: bigint[] = [initTask];
  for (const node of walkList(profile.kernel, initTask + BigInt(layout.tasks), {
    what: 'task list',
    warn,
    maxEntries: maxTasks,
  })) {
    leaders.push(node - BigInt(layout.tasks));
  }
  for (const leader of leaders) {
    const info = readTask(profile, layout, leader, warn);
    if (info === undefined) continue;
    yield { info, thread: false, layout };
    if (options.threads !== true) continue;
    const head = leader + BigInt(layout.threadGroup);
    for (const node of walkList(profile.kernel, head, {
      what: `thread group of ${hex(leader)}`,
      warn,
      maxEntries: maxTasks,
    })) {
      const thread = readTask(profile, layout, node - BigInt(layout.threadGroup), warn);
      if (thread !== undefined) yield { info: thread, thread: true, layout };
    }
  }
}

/** `pslist`: one row per process (and per thread with `threads`). */
export const pslistPlugin: LinuxPlugin<PslistRow, PslistOptions> = {
  id: 'linux.pslist',
  version: '1.0.0',
  description: 'Processes from the kernel task list',
  requires: { symbols: ['init_task'], types: ['task_struct', 'mm_struct', 'cred'] },
  columns: [
    { name: 'PID', key: 'pid', type: 'int' },
    { name: 'PPID', key: 'ppid', type: 'int' },
    { name: 'TGID', key: 'tgid', type: 'int' },
    { name: 'UID', key: 'uid', type: 'int' },
    { name: 'STATE', key: 'state', type: 'string' },
    { name: 'START', key: 'startTime', type: 'int', hint: 'time' },
    { name: 'CREATED', key: 'createTime', type: 'string' },
    { name: 'COMM', key: 'comm', type: 'string' },
    { name: 'CR3', key: 'cr3', type: 'address', hint: 'hex' },
    { name: 'TASK', key: 'task', type: 'address', hint: 'hex' },
  ],
  *run(context: PluginContext, options: PslistOptions): Generator<PslistRow> {
    const warn = (w: IntrospectionWarning): void => context.warn(w);
    const bootNs = readBootTimeNs(context.profile, warn);
    for (const { info, thread } of walkTasks(context.profile, warn, options)) {
      yield toRow(info, thread, bootNs);
    }
  },
};
