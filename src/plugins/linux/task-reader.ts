import { hex } from '../../core/index.js';
import type { KernelProfile } from '../../profiles/index.js';
import type { IntrospectionWarning, SymbolTable } from '../../symbols/index.js';

/** One task_struct, decoded. */
export interface TaskInfo {
  readonly task: bigint;
  readonly pid: number;
  readonly tgid: number;
  readonly ppid: number;
  readonly uid: number | undefined;
  readonly comm: string;
  /** ps(1) state letter (fs/proc/array.c task_state_array). */
  readonly state: string;
  /** Nanoseconds of monotonic time since boot (task_struct.start_time). */
  readonly startTimeNs: bigint;
  /**
   * Nanoseconds since boot including suspend (task_struct.start_boottime, real_start_time before
   * Linux 5.5): what /proc/PID/stat's starttime shows. Undefined when the kernel has neither.
   */
  readonly startBoottimeNs: bigint | undefined;
  readonly mm: bigint;
  /** Physical address of the process's top-level page table (mm->pgd), 0 for kernel threads. */
  readonly cr3: bigint;
  readonly kernelThread: boolean;
}

/** PF_KTHREAD (include/linux/sched.h). */
const PF_KTHREAD = 0x0020_0000;
/** TASK_REPORT and TASK_IDLE (include/linux/sched.h), task_state_array order (fs/proc/array.c). */
const TASK_REPORT = 0x7f;
const TASK_IDLE = 0x402;
const STATE_LETTERS = ['R', 'S', 'D', 'T', 't', 'X', 'Z', 'P'] as const;
const TASK_COMM_LEN = 16;

/** Offsets of the members read, resolved once per profile from the symbol table. */
export interface TaskLayout {
  readonly size: number;
  readonly tasks: number;
  readonly threadGroup: number;
  readonly pid: number;
  readonly tgid: number;
  readonly realParent: number;
  readonly state: number;
  readonly exitState: number;
  readonly flags: number;
  readonly comm: number;
  readonly mm: number;
  readonly cred: number;
  readonly startTime: number;
  readonly startBoottime: number | undefined;
  readonly credUid: number;
  readonly mmPgd: number;
  readonly mmArgStart: number;
  readonly mmArgEnd: number;
}

/**
 * Resolves the task_struct/mm_struct/cred members plugins read (`state` before Linux 5.14,
 * `real_start_time` before 5.5).
 */
export function taskLayout(symbols: SymbolTable): TaskLayout {
  const state = symbols.member('task_struct', '__state') ?? symbols.member('task_struct', 'state');
  return {
    size: symbols.sizeOf('task_struct'),
    tasks: symbols.offsetOf('task_struct', 'tasks'),
    threadGroup: symbols.offsetOf('task_struct', 'thread_group'),
    pid: symbols.offsetOf('task_struct', 'pid'),
    tgid: symbols.offsetOf('task_struct', 'tgid'),
    realParent: symbols.offsetOf('task_struct', 'real_parent'),
    state: state?.offset ?? symbols.offsetOf('task_struct', '__state'),
    exitState: symbols.offsetOf('task_struct', 'exit_state'),
    flags: symbols.offsetOf('task_struct', 'flags'),
    comm: symbols.offsetOf('task_struct', 'comm'),
    mm: symbols.offsetOf('task_struct', 'mm'),
    cred: symbols.offsetOf('task_struct', 'cred'),
    startTime: symbols.offsetOf('task_struct', 'start_time'),
    startBoottime: (
      symbols.member('task_struct', 'start_boottime') ??
      symbols.member('task_struct', 'real_start_time')
    )?.offset,
    credUid: symbols.offsetOf('cred', 'uid'),
    mmPgd: symbols.offsetOf('mm_struct', 'pgd'),
    mmArgStart: symbols.offsetOf('mm_struct', 'arg_start'),
    mmArgEnd: symbols.offsetOf('mm_struct', 'arg_end'),
  };
}

export function stateLetter(state: number, exitState: number): string {
  if ((state & 0x7ff) === TASK_IDLE) return 'I';
  const report = (state | exitState) & TASK_REPORT;
  const index = report === 0 ? 0 : 32 - Math.clz32(report);
  return STATE_LETTERS[index] ?? '?';
}

/** Little helpers over one buffer, bounds-checked by DataView. */
function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads one task_struct (one read of `size` bytes, then fields from the buffer) plus its parent's
 * tgid, its cred's uid and its mm's pgd. Returns undefined, with a warning, when the task itself is
 * unreadable; a missing parent, cred or mm leaves that field empty.
 */
export function readTask(
  profile: KernelProfile,
  layout: TaskLayout,
  task: bigint,
  warn: (warning: IntrospectionWarning) => void,
): TaskInfo | undefined {
  let bytes: Uint8Array;
  try {
    bytes = profile.kernel.read(task, layout.size);
  } catch (error) {
    warn({
      code: 'unreadable-memory',
      message: `Cannot read task_struct at ${hex(task)}: ${(error as Error).message}`,
      address: task,
    });
    return undefined;
  }
  const fields = view(bytes);
  const pointer = (offset: number): bigint => fields.getBigUint64(offset, true);
  const commBytes = bytes.subarray(layout.comm, layout.comm + TASK_COMM_LEN);
  const nul = commBytes.indexOf(0);
  const comm = Buffer.from(commBytes.subarray(0, nul < 0 ? TASK_COMM_LEN : nul)).toString('latin1');
  const parent = pointer(layout.realParent);
  const ppid = parent === task ? 0 : (readU32(profile, parent + BigInt(layout.tgid)) ?? -1);
  const credAddress = pointer(layout.cred);
  const uid = readU32(profile, credAddress + BigInt(layout.credUid));
  const mm = pointer(layout.mm);
  let cr3 = 0n;
  if (mm !== 0n) {
    const pgd = readU64(profile, mm + BigInt(layout.mmPgd));
    const translated = pgd === undefined ? undefined : profile.kernel.translate(pgd);
    if (translated?.ok === true) cr3 = translated.physical;
    else {
      warn({
        code: 'unreadable-memory',
        message: `Cannot find the page tables of task ${hex(task)}: mm ${hex(mm)} or its pgd is unreadable`,
        address: mm,
      });
    }
  }
  return {
    task,
    pid: fields.getInt32(layout.pid, true),
    tgid: fields.getInt32(layout.tgid, true),
    ppid,
    uid,
    comm,
    state: stateLetter(
      fields.getUint32(layout.state, true),
      fields.getInt32(layout.exitState, true),
    ),
    startTimeNs: pointer(layout.startTime),
    startBoottimeNs: layout.startBoottime === undefined ? undefined : pointer(layout.startBoottime),
    mm,
    cr3,
    kernelThread: (fields.getUint32(layout.flags, true) & PF_KTHREAD) !== 0,
  };
}

export function readU32(profile: KernelProfile, address: bigint): number | undefined {
  try {
    return view(profile.kernel.read(address, 4)).getUint32(0, true);
  } catch {
    return undefined;
  }
}

export function readU64(profile: KernelProfile, address: bigint): bigint | undefined {
  try {
    return view(profile.kernel.read(address, 8)).getBigUint64(0, true);
  } catch {
    return undefined;
  }
}
