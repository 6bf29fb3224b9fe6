import type { LinuxPlugin, PluginContext } from '../plugin.js';
import { walkList } from './list-walker.js';
import { pidIdrEntries, pidTask } from './pid-idr.js';
import { walkTasks } from './pslist.js';
import { runQueueTasks } from './run-queues.js';
import { readTask, taskLayout } from './task-reader.js';

export interface PsxviewRow {
  readonly pid: number;
  readonly tgid: number;
  readonly comm: string;
  readonly task: bigint;
  /** Seen in init_task.tasks (or a listed leader's thread_group). */
  readonly taskList: boolean;
  /** Seen in init_pid_ns's pid idr. */
  readonly pidHash: boolean;
  /** Seen in some listed task's children list. */
  readonly children: boolean;
  /**
   * Seen on a CPU's run queue (running, idle task, or queued in CFS/RT/deadline). Only runnable
   * tasks are there, so `false` is normal for a sleeping task and suspicious only for state R.
   */
  readonly runQueue: boolean;
  /** ps(1) state letter, which says how to read `runQueue`. */
  readonly state: string;
  /** In one view and missing from another: the sign of a task unlinked by a rootkit. */
  readonly suspicious: boolean;
}

/**
 * `psxview`: cross-checks four views of the tasks: the task list, the pid idr (every task with a
 * pid, kernel/pid.c), the parents' children lists and the CPUs' run queues. A task missing from the
 * task list while the kernel still knows its pid or schedules it is reported as suspicious.
 *
 * Reading the RUNQ column (as Volatility's psxview shows False for its sleeping tasks): a run queue
 * holds only runnable tasks, so `false` for a task in state S, D, I, T or Z is expected; `false` for
 * a task in state R means the scheduler does not know a task that claims to run, and is flagged.
 */
export const psxviewPlugin: LinuxPlugin<PsxviewRow, { readonly onlySuspicious?: boolean }> = {
  id: 'linux.psxview',
  version: '1.0.0',
  description: 'Tasks seen in each kernel view, to find hidden processes',
  requires: {
    symbols: ['init_task', 'init_pid_ns', 'runqueues'],
    types: ['task_struct', 'pid', 'pid_namespace', 'xa_node', 'rq', 'cfs_rq', 'sched_entity'],
  },
  columns: [
    { name: 'PID', key: 'pid', type: 'int' },
    { name: 'COMM', key: 'comm', type: 'string' },
    { name: 'TASKS', key: 'taskList', type: 'string' },
    { name: 'PID-IDR', key: 'pidHash', type: 'string' },
    { name: 'CHILDREN', key: 'children', type: 'string' },
    { name: 'RUNQ', key: 'runQueue', type: 'string' },
    { name: 'STATE', key: 'state', type: 'string' },
    { name: 'SUSPICIOUS', key: 'suspicious', type: 'string' },
    { name: 'TASK', key: 'task', type: 'address', hint: 'hex' },
  ],
  *run(context: PluginContext, options): Generator<PsxviewRow> {
    const { profile } = context;
    const warn = context.warn.bind(context);
    const layout = taskLayout(profile.symbols);
    const listed = new Set<bigint>();
    for (const { info } of walkTasks(profile, warn, { threads: true })) listed.add(info.task);
    const inIdr = new Set<bigint>();
    for (const pid of pidIdrEntries(profile, { warn })) {
      const task = pidTask(profile, pid);
      if (task !== undefined) inIdr.add(task);
    }
    const children = new Set<bigint>();
    const childrenOffset = BigInt(profile.symbols.offsetOf('task_struct', 'children'));
    const siblingOffset = BigInt(profile.symbols.offsetOf('task_struct', 'sibling'));
    for (const parent of [...listed]) {
      for (const node of walkList(profile.kernel, parent + childrenOffset, {
        what: 'children list',
        warn,
        maxEntries: 1_000_000,
      })) {
        children.add(node - siblingOffset);
      }
    }
    const queued = new Set<bigint>();
    for (const { task } of runQueueTasks(profile, { warn })) queued.add(task);
    const all = new Set<bigint>([...listed, ...inIdr, ...children, ...queued]);
    for (const task of all) {
      const info = readTask(profile, layout, task, warn);
      if (info === undefined) continue;
      const row: PsxviewRow = {
        pid: info.pid,
        tgid: info.tgid,
        comm: info.comm,
        task,
        taskList: listed.has(task),
        pidHash: inIdr.has(task),
        // init_task and kernel-thread roots have no parent listing them.
        children: children.has(task) || info.pid === 0,
        runQueue: queued.has(task),
        state: info.state,
        suspicious: false,
      };
      const leader = info.pid === info.tgid;
      const suspicious =
        !row.taskList ||
        (!row.pidHash && info.pid !== 0) ||
        (leader && !row.children) ||
        (info.state === 'R' && !row.runQueue);
      if (options.onlySuspicious === true && !suspicious) continue;
      yield { ...row, suspicious };
    }
  },
};
