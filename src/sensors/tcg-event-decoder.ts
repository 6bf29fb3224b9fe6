import { SyscallTable, type GuestEvent, type GuestProcess } from '../events/index.js';
import type { TaskReader } from './guest-task-reader.js';
import type { SyscallArgumentReader } from './syscall-argument-reader.js';
import type { TcgExecRecord } from './tcg-log-record.js';

/** Kernel addresses the sensor's `-dfilter` ranges start at (runtime addresses, slide applied). */
export interface TcgProbeAddresses {
  /** `entry_SYSCALL_64`: the `syscall` instruction's target (MSR_LSTAR). */
  readonly syscallEntry: bigint;
  /** `__switch_to(prev, next)`: RDI = previous task, RSI = next task (arch/x86/kernel/process_64.c). */
  readonly contextSwitch?: bigint;
}

export interface TcgEventDecoderOptions {
  readonly vm: string;
  readonly addresses: TcgProbeAddresses;
  /** Resolves tasks for process attribution; without it events carry no `process`. */
  readonly tasks?: TaskReader;
  /** Emit `context-switch` events as well as using them for attribution. Default true. */
  readonly contextSwitchEvents?: boolean;
  /** Reads execve/open/connect arguments from guest memory; without it events carry registers only. */
  readonly arguments?: SyscallArgumentReader;
}

/** execve (59) and execveat (322): the task's comm and argv change when they succeed. */
const EXEC_SYSCALLS = new Set([59, 322]);
/** prctl (157) with PR_SET_NAME (15) renames the task (busybox names its in-process applets so). */
const PRCTL = 157;
const PR_SET_NAME = 15n;
const SYSCALL_TABLE = SyscallTable.for('x86-64');
/** CR3 values not found in the task list, remembered so each is walked once. */
const MAX_UNKNOWN_CR3 = 1024;

interface VcpuState {
  task: bigint | undefined;
  process: GuestProcess | undefined;
  stale: boolean;
}

/**
 * Turns register dumps at the syscall entry into `syscall` events and dumps at `__switch_to` into
 * the current task of each vCPU, so every syscall carries the process that made it. At
 * `entry_SYSCALL_64` the user registers are intact: RAX = number, RDI, RSI, RDX, R10, R8, R9 =
 * arguments (x86-64 syscall ABI), CR3 = the process's page tables (lab-notes §4).
 *
 * The log is read behind the guest, so a task read at switch time may already show a later comm
 * or argv; after an `execve` the task is read again at its next syscall.
 *
 * @example
 * ```ts
 * import { TcgEventDecoder } from './tcg-event-decoder.js';
 * const decoder = new TcgEventDecoder({ vm: 'lab', addresses: { syscallEntry: 0xffffffff81c00080n } });
 * declare const record: import('./tcg-log-record.js').TcgExecRecord;
 * decoder.decode(record); // a syscall event, or undefined
 * ```
 */
export class TcgEventDecoder {
  readonly #vm: string;
  readonly #addresses: TcgProbeAddresses;
  readonly #tasks: TaskReader | undefined;
  readonly #arguments: SyscallArgumentReader | undefined;
  readonly #switchEvents: boolean;
  readonly #vcpus = new Map<number, VcpuState>();
  readonly #unknownCr3 = new Set<bigint>();
  #unattributed = 0;
  #unknownPc = 0;

  constructor(options: TcgEventDecoderOptions) {
    this.#vm = options.vm;
    this.#addresses = options.addresses;
    this.#tasks = options.tasks;
    this.#arguments = options.arguments;
    this.#switchEvents = options.contextSwitchEvents ?? true;
  }

  /** Syscalls that could not be tied to a task (before the first context switch, or unreadable). */
  get unattributed(): number {
    return this.#unattributed;
  }

  /** The task current on `vcpu` after the records decoded so far (also before a first event). */
  currentProcess(vcpu: number): GuestProcess | undefined {
    return this.#vcpus.get(vcpu)?.process;
  }

  /** Dumps at an address that is not one of the probes (a `-dfilter` wider than the probes). */
  get unknownPc(): number {
    return this.#unknownPc;
  }

  decode(record: TcgExecRecord): GuestEvent | undefined {
    if (record.pc === this.#addresses.syscallEntry) return this.#syscall(record);
    if (record.pc === this.#addresses.contextSwitch) return this.#contextSwitch(record);
    this.#unknownPc += 1;
    return undefined;
  }

  #state(vcpu: number): VcpuState {
    let state = this.#vcpus.get(vcpu);
    if (state === undefined) {
      state = { task: undefined, process: undefined, stale: false };
      this.#vcpus.set(vcpu, state);
    }
    return state;
  }

  #syscall(record: TcgExecRecord): GuestEvent {
    const { registers } = record;
    // RAX holds the number in its low 32 bits; the kernel ignores the rest (syscall_enter_from_user_mode).
    const nr = Number(registers.rax & 0xffff_ffffn);
    const state = this.#state(record.vcpu);
    if (state.stale && state.task !== undefined && this.#tasks !== undefined) {
      state.process = this.#tasks.read(state.task, registers.cr3) ?? state.process;
      state.stale = false;
    }
    if (state.process === undefined) this.#identify(state, registers.cr3);
    const process = state.process;
    if (process === undefined) this.#unattributed += 1;
    if (EXEC_SYSCALLS.has(nr) || (nr === PRCTL && registers.rdi === PR_SET_NAME)) {
      state.stale = true;
    }
    const name = SYSCALL_TABLE.name(nr);
    return {
      type: 'syscall',
      vm: this.#vm,
      vcpu: record.vcpu,
      time: null,
      ...(process === undefined ? {} : { process }),
      abi: 'x86-64',
      nr,
      ...(name === undefined ? {} : { name }),
      args: [
        registers.rdi,
        registers.rsi,
        registers.rdx,
        registers.r10,
        registers.r8,
        registers.r9,
      ],
      // Read now: the strings are in the process's memory only until it moves on.
      ...this.#arguments?.read(nr, registers),
    };
  }

  /**
   * Before the first context switch on a vCPU the current task is unknown: find it by its page
   * tables (CR3 = `mm->pgd` at syscall entry) in the task list, once per CR3.
   */
  #identify(state: VcpuState, cr3: bigint): void {
    const tasks = this.#tasks;
    if (tasks?.findByCr3 === undefined || this.#unknownCr3.has(cr3)) return;
    const found = tasks.findByCr3(cr3);
    if (found === undefined) {
      if (this.#unknownCr3.size < MAX_UNKNOWN_CR3) this.#unknownCr3.add(cr3);
      return;
    }
    state.task = found.task;
    state.process = found.process;
  }

  #contextSwitch(record: TcgExecRecord): GuestEvent | undefined {
    const { registers } = record;
    const state = this.#state(record.vcpu);
    const from = state.process;
    state.stale = false;
    state.task = registers.rsi;
    state.process = this.#tasks?.read(registers.rsi, registers.cr3);
    if (!this.#switchEvents || from === undefined || state.process === undefined) return undefined;
    return {
      type: 'context-switch',
      vm: this.#vm,
      vcpu: record.vcpu,
      time: null,
      process: state.process,
      from,
      to: state.process,
    };
  }
}
