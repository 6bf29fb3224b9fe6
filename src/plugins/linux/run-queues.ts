import { hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';
import { walkList } from './list-walker.js';
import { walkRbTree } from './rb-tree-walker.js';
import { readU32, readU64 } from './task-reader.js';

/** Where a task was found: on the CPU, the CPU's idle task, or queued in a scheduling class. */
export type RunQueueSlot = 'curr' | 'idle' | 'cfs' | 'rt' | 'dl';

export interface RunQueueTask {
  readonly task: bigint;
  readonly cpu: number;
  readonly slot: RunQueueSlot;
}

export interface RunQueueOptions {
  /** Tree and list nodes read at most over all CPUs. Default 1,000,000. */
  readonly maxNodes?: number;
  /** CPUs read at most. Default 8,192 (NR_CPUS of Debian's x86-64 kernels). */
  readonly maxCpus?: number;
  readonly warn: (warning: IntrospectionWarning) => void;
}

/** MAX_RT_PRIO (include/linux/sched/prio.h): one list per real-time priority. */
const MAX_RT_PRIO = 100;
/** Task-group nesting followed at most (sched/core.c allows any depth; real trees are shallow). */
const MAX_GROUP_DEPTH = 32;

/**
 * The per-CPU `struct rq` addresses: `runqueues` is a per-cpu variable (kernel/sched/core.c
 * DEFINE_PER_CPU_SHARED_ALIGNED), so CPU n's copy is at `&runqueues + __per_cpu_offset[n]`
 * (include/asm-generic/percpu.h per_cpu_offset()) for n below `nr_cpu_ids`.
 */
function runQueueAddresses(profile: KernelProfile, options: RunQueueOptions): bigint[] {
  const symbols = profile.symbols;
  const runqueues = symbols.requireAddress('runqueues');
  const offsets = symbols.address('__per_cpu_offset');
  if (offsets === undefined) return [runqueues]; // a uniprocessor kernel: no per-cpu areas
  const maxCpus = options.maxCpus ?? 8192;
  let cpus = readU32(profile, symbols.requireAddress('nr_cpu_ids')) ?? 1;
  if (cpus < 1 || cpus > maxCpus) {
    options.warn({
      code: 'bad-length',
      message: `nr_cpu_ids is ${cpus}: reading ${Math.min(Math.max(cpus, 1), maxCpus)} CPUs`,
    });
    cpus = Math.min(Math.max(cpus, 1), maxCpus);
  }
  const found: bigint[] = [];
  for (let cpu = 0; cpu < cpus; cpu += 1) {
    const offset = readU64(profile, offsets + BigInt(cpu) * 8n);
    if (offset === undefined) {
      options.warn({
        code: 'unreadable-memory',
        message: `Cannot read __per_cpu_offset[${cpu}]`,
        address: offsets + BigInt(cpu) * 8n,
      });
      break;
    }
    found.push((runqueues + offset) & 0xffff_ffff_ffff_ffffn);
  }
  return found;
}

/**
 * The tasks on the CPUs' run queues (kernel/sched/sched.h `struct rq`): each CPU's `curr` and
 * `idle`, the CFS red-black tree `cfs.tasks_timeline` (`sched_entity.run_node`; an entity with
 * `my_q` is a task group whose own tree is followed, and so is each level's running `curr`
 * entity, which CFS keeps out of its tree), the real-time priority lists `rt.active.queue[]`
 * (`sched_rt_entity.run_list`) and the deadline tree `dl.root` (`sched_dl_entity.rb_node`).
 * Only runnable tasks are there: a sleeping task is legitimately absent.
 */
export function* runQueueTasks(
  profile: KernelProfile,
  options: RunQueueOptions,
): Generator<RunQueueTask> {
  const symbols = profile.symbols;
  const off = (type: string, member: string): bigint => BigInt(symbols.offsetOf(type, member));
  const budget = { remaining: options.maxNodes ?? 1_000_000 };
  const rb = {
    rightOffset: symbols.offsetOf('rb_node', 'rb_right'),
    leftOffset: symbols.offsetOf('rb_node', 'rb_left'),
  };
  const timeline = off('cfs_rq', 'tasks_timeline') + off('rb_root_cached', 'rb_root');
  const runNode = off('sched_entity', 'run_node');
  const myQ = off('sched_entity', 'my_q');
  const taskSe = off('task_struct', 'se');
  const rtQueue = off('rq', 'rt') + off('rt_rq', 'active') + off('rt_prio_array', 'queue');
  const listHeadSize = BigInt(symbols.sizeOf('list_head'));
  const runList = off('sched_rt_entity', 'run_list');
  const taskRt = off('task_struct', 'rt');
  const rtGroup = symbols.member('sched_rt_entity', 'my_q');
  const dlNode = off('task_struct', 'dl') + off('sched_dl_entity', 'rb_node');
  const dlRoot = off('rq', 'dl') + off('dl_rq', 'root') + off('rb_root_cached', 'rb_root');

  const cpus = runQueueAddresses(profile, options);
  for (const [cpu, rq] of cpus.entries()) {
    for (const slot of ['curr', 'idle'] as const) {
      const task = readU64(profile, rq + off('rq', slot));
      if (task === undefined) {
        options.warn({
          code: 'unreadable-memory',
          message: `Cannot read the run queue of CPU ${cpu} at ${hex(rq)}`,
          address: rq,
        });
        break;
      }
      if (task !== 0n) yield { task, cpu, slot };
    }

    // CFS: the root cfs_rq, then the cfs_rq of every group entity met, breadth first.
    const queues: { cfsRq: bigint; depth: number }[] = [{ cfsRq: rq + off('rq', 'cfs'), depth: 0 }];
    const seenQueues = new Set<bigint>();
    for (let next = queues.shift(); next !== undefined; next = queues.shift()) {
      const { cfsRq, depth } = next;
      if (seenQueues.has(cfsRq)) continue;
      seenQueues.add(cfsRq);
      const what = `CFS run queue ${hex(cfsRq)} of CPU ${cpu}`;
      const entities: bigint[] = [];
      const running = readU64(profile, cfsRq + off('cfs_rq', 'curr'));
      if (running !== undefined && running !== 0n) entities.push(running);
      const root = readU64(profile, cfsRq + timeline);
      if (root === undefined) {
        options.warn({
          code: 'unreadable-memory',
          message: `Cannot read the ${what}`,
          address: cfsRq,
        });
        continue;
      }
      for (const node of walkRbTree(profile.kernel, root, {
        ...rb,
        budget,
        warn: options.warn,
        what,
      })) {
        entities.push(node - runNode);
      }
      for (const entity of entities) {
        const group = readU64(profile, entity + myQ);
        if (group === undefined) {
          options.warn({
            code: 'unreadable-memory',
            message: `Cannot read sched_entity ${hex(entity)} in the ${what}`,
            address: entity,
          });
        } else if (group === 0n) {
          // The running entity is rq->curr, already yielded; queued ones are tasks.
          if (entity !== running) yield { task: entity - taskSe, cpu, slot: 'cfs' };
        } else if (depth + 1 > MAX_GROUP_DEPTH) {
          options.warn({
            code: 'limit-reached',
            message: `Task groups nest deeper than ${MAX_GROUP_DEPTH} levels in the ${what}`,
            address: entity,
          });
        } else queues.push({ cfsRq: group, depth: depth + 1 });
      }
    }

    // Real-time: one list per priority (kernel/sched/rt.c __enqueue_rt_entity()).
    for (let prio = 0; prio < MAX_RT_PRIO; prio += 1) {
      const head = rq + rtQueue + BigInt(prio) * listHeadSize;
      for (const node of walkList(profile.kernel, head, {
        what: `real-time run queue ${prio} of CPU ${cpu}`,
        warn: options.warn,
        maxEntries: Math.max(budget.remaining, 0),
      })) {
        budget.remaining -= 1;
        // With CONFIG_RT_GROUP_SCHED a queued entity can be a group; only task entities count.
        const entity = node - runList;
        if (rtGroup !== undefined && readU64(profile, entity + BigInt(rtGroup.offset)) !== 0n) {
          continue;
        }
        yield { task: entity - taskRt, cpu, slot: 'rt' };
      }
    }

    // Deadline: one tree ordered by deadline (kernel/sched/deadline.c __enqueue_dl_entity()).
    const dlTop = readU64(profile, rq + dlRoot);
    if (dlTop !== undefined) {
      const what = `deadline run queue of CPU ${cpu}`;
      for (const node of walkRbTree(profile.kernel, dlTop, {
        ...rb,
        budget,
        warn: options.warn,
        what,
      })) {
        yield { task: node - dlNode, cpu, slot: 'dl' };
      }
    }
  }
}
