/**
 * Test support: a KVM guest of the tests' own making with two "tasks" (lab-notes.md §8: kvm_pvm
 * runs a hand-made boot sector, not a stock kernel). It enters long mode (identity-mapped 2 MiB
 * page, CR3 = 0x1000) and, `SWITCH_ROUNDS` times, "switches" to task A then task B by calling
 * `switchto(prev = RDI, next = RSI)` as Linux calls __switch_to(prev, next); after each switch the
 * task does known port I/O (A: 0x11 to port 0x80 three times, B: 0x22 twice). The task records
 * are laid out as `SWITCH_TASK_LAYOUT` says, so a sensor reads pid, tgid and comm from guest RAM as
 * it reads a task_struct. Started paused with a gdbstub and a RAM file.
 */
import { rm } from 'node:fs/promises';
import { freeTcpPort } from '../core/index.js';
import { startKvmIoGuest, type KvmIoGuest } from './_kvm-io-guest-fixture.js';
import type { TaskLayout } from './guest-task-reader.js';

export const SWITCH_ROUNDS = 200;
export const SWITCH_TO = 0x7d00n;
export const TASK_A = { pid: 101, tgid: 100, comm: 'taskA', value: 0x11, writes: 3 } as const;
export const TASK_B = { pid: 202, tgid: 200, comm: 'taskB', value: 0x22, writes: 2 } as const;
export const TASK_PORT = 0x80;
const TASK_A_AT = 0x7d40;
const TASK_B_AT = 0x7d60;
const outs = (value: number, count: number): string =>
  [`mov $0x${value.toString(16)},%al`, ...Array<string>(count).fill('out %al,%dx')].join('\n');
const SOURCE = `.code16
.globl _start
_start:
cli
xor %ax,%ax
mov %ax,%ds
mov %ax,%es
mov $0x1000,%di
xor %eax,%eax
mov $0xc00,%cx
rep stosl
movl $0x2003,0x1000
movl $0x3003,0x2000
movl $0x83,0x3000
mov $0x20,%eax
mov %eax,%cr4
mov $0x1000,%eax
mov %eax,%cr3
mov $0xc0000080,%ecx
rdmsr
or $0x100,%eax
wrmsr
mov %cr0,%eax
or $0x80000001,%eax
mov %eax,%cr0
lgdtl gdtr
ljmpl $0x08,$lm
.code64
lm:
mov $0x10,%ax
mov %ax,%ds
mov %ax,%ss
mov $0x7000,%rsp
mov $${SWITCH_ROUNDS},%r12d
again:
mov $0x${TASK_B_AT.toString(16)},%edi
mov $0x${TASK_A_AT.toString(16)},%esi
call switchto
mov $0x${TASK_PORT.toString(16)},%dx
${outs(TASK_A.value, TASK_A.writes)}
mov $0x${TASK_A_AT.toString(16)},%edi
mov $0x${TASK_B_AT.toString(16)},%esi
call switchto
mov $0x${TASK_PORT.toString(16)},%dx
${outs(TASK_B.value, TASK_B.writes)}
dec %r12d
jnz again
mov $0x3f8,%dx
mov $0x4b,%al
out %al,%dx
halt: hlt
jmp halt
.p2align 3
gdt: .quad 0
.quad 0x00af9a000000ffff
.quad 0x00cf92000000ffff
gdtr: .word gdtr-gdt-1
.long gdt
. = _start + 0x${(SWITCH_TO - 0x7c00n).toString(16)}
switchto:
nop
ret
. = _start + 0x${(TASK_A_AT - 0x7c00).toString(16)}
.long ${TASK_A.pid}, ${TASK_A.tgid}, 0, 0
.ascii "${TASK_A.comm}\\0"
. = _start + 0x${(TASK_B_AT - 0x7c00).toString(16)}
.long ${TASK_B.pid}, ${TASK_B.tgid}, 0, 0
.ascii "${TASK_B.comm}\\0"
. = _start + 510
.byte 0x55,0xaa
`;

/** pid, tgid, mm (0: no user address space to read argv from), comm. */
export const SWITCH_TASK_LAYOUT: TaskLayout = {
  pid: 0,
  tgid: 4,
  mm: 8,
  comm: 16,
  mmPgd: 0,
  mmArgStart: 0,
  tasks: 0,
};

export interface SwitchingGuest {
  readonly guest: KvmIoGuest;
  readonly gdbPort: number;
  readonly ramPath: string;
  stop(): Promise<void>;
}

/** Starts the guest paused (`-S`) under KVM with a gdbstub and a shared RAM file. */
export async function startSwitchingGuest(): Promise<SwitchingGuest> {
  const gdbPort = await freeTcpPort();
  const ramPath = `/dev/shm/vmsight-kvm-switch-${process.pid}-${gdbPort}`;
  const guest = await startKvmIoGuest([], 0, {
    source: SOURCE,
    // prettier-ignore
    extraArgs: [
      '-object', `memory-backend-file,id=ram0,size=16M,mem-path=${ramPath},share=on`,
      '-machine', 'memory-backend=ram0', '-gdb', `tcp:127.0.0.1:${gdbPort}`,
    ],
  });
  return {
    guest,
    gdbPort,
    ramPath,
    async stop() {
      await guest.stop();
      await rm(ramPath, { force: true });
    },
  };
}

/** Waits until the guest wrote its end marker (or `timeoutMs` passed); true when it did. */
export async function waitForGuestEnd(guest: KvmIoGuest, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await guest.completions()) === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (await guest.completions()) > 0;
}
