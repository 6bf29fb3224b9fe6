import { hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning } from '../../symbols/index.js';
import { readU64 } from './task-reader.js';

/** XA_CHUNK_SHIFT (include/linux/xarray.h, CONFIG_BASE_SMALL=0): 64 slots per node. */
const XA_CHUNK_SIZE = 64;
/** Tree height bound: 64-bit indexes need at most 11 levels of 6 bits. */
const MAX_SHIFT = 66;

/** xa_is_node(): an internal entry (low bits 10) above 4096 (include/linux/xarray.h). */
function isNode(entry: bigint): boolean {
  return (entry & 3n) === 2n && entry > 4096n;
}

export interface PidIdrOptions {
  /** xa_node structures read at most. Default 65,536 (4M pids need 65,793 leaves at most). */
  readonly maxNodes?: number;
  readonly warn: (warning: IntrospectionWarning) => void;
}

/**
 * The `struct pid` pointers in `init_pid_ns.idr` (kernel/pid.c alloc_pid(): idr_alloc_cyclic), a
 * second view of the tasks, independent of the task list. The idr's xarray is walked with a bound
 * on nodes and depth; value and retry entries are skipped.
 */
export function* pidIdrEntries(profile: KernelProfile, options: PidIdrOptions): Generator<bigint> {
  const symbols = profile.symbols;
  const head =
    symbols.requireAddress('init_pid_ns') +
    BigInt(symbols.offsetOf('pid_namespace', 'idr')) +
    BigInt(symbols.offsetOf('idr', 'idr_rt')) +
    BigInt(symbols.offsetOf('xarray', 'xa_head'));
  const shiftOffset = BigInt(symbols.offsetOf('xa_node', 'shift'));
  const slotsOffset = BigInt(symbols.offsetOf('xa_node', 'slots'));
  const maxNodes = options.maxNodes ?? 65_536;
  const root = readU64(profile, head);
  if (root === undefined) {
    options.warn({
      code: 'unreadable-memory',
      message: 'Cannot read the pid idr root',
      address: head,
    });
    return;
  }
  if (root === 0n) return;
  if (!isNode(root)) {
    if ((root & 3n) === 0n) yield root;
    return;
  }
  const stack: { node: bigint; maxShift: number }[] = [{ node: root - 2n, maxShift: MAX_SHIFT }];
  const seen = new Set<bigint>();
  while (stack.length > 0) {
    const { node, maxShift } = stack.pop() as { node: bigint; maxShift: number };
    if (seen.has(node)) {
      options.warn({
        code: 'list-loop',
        message: `The pid idr visits node ${hex(node)} twice`,
        address: node,
      });
      continue;
    }
    if (seen.size >= maxNodes) {
      options.warn({
        code: 'limit-reached',
        message: `The pid idr has more than ${maxNodes} nodes`,
      });
      return;
    }
    seen.add(node);
    let shift: number;
    let slots: DataView;
    try {
      shift = profile.kernel.read(node + shiftOffset, 1)[0] ?? 0;
      const bytes = profile.kernel.read(node + slotsOffset, XA_CHUNK_SIZE * 8);
      slots = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch {
      options.warn({
        code: 'unreadable-memory',
        message: `Cannot read pid idr node ${hex(node)}`,
        address: node,
      });
      continue;
    }
    // Shifts shrink by XA_CHUNK_SHIFT per level; anything else is a corrupt or crafted tree.
    if (shift % 6 !== 0 || shift >= maxShift) {
      options.warn({
        code: 'list-corrupt',
        message: `Pid idr node ${hex(node)} has shift ${shift}`,
        address: node,
      });
      continue;
    }
    if (shift === 0) {
      for (let slot = 0; slot < XA_CHUNK_SIZE; slot += 1) {
        const entry = slots.getBigUint64(slot * 8, true);
        if (entry !== 0n && (entry & 3n) === 0n) yield entry;
      }
      continue;
    }
    // Pushed last to first so that the stack pops them in index order.
    for (let slot = XA_CHUNK_SIZE - 1; slot >= 0; slot -= 1) {
      const entry = slots.getBigUint64(slot * 8, true);
      if (isNode(entry)) stack.push({ node: entry - 2n, maxShift: shift });
    }
  }
}

/** The task of a `struct pid` (pid->tasks[PIDTYPE_PID].first is task->pid_links[PIDTYPE_PID]). */
export function pidTask(profile: KernelProfile, pid: bigint): bigint | undefined {
  const symbols = profile.symbols;
  const first = readU64(profile, pid + BigInt(symbols.offsetOf('pid', 'tasks')));
  if (first === undefined || first === 0n) return undefined;
  return first - BigInt(symbols.offsetOf('task_struct', 'pid_links'));
}
