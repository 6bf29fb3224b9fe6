import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import type { GuestEvent } from '../events/index.js';
import { kvmSkipReason, startKvmIoGuest, type KvmIoGuest } from './_kvm-io-guest-fixture.js';
import { GdbSensor } from './gdb-sensor.js';
import { RamTaskReader, type TaskLayout } from './guest-task-reader.js';

// A boot sector that enters long mode (identity-mapped 2 MiB page, CR3 = 0x1000) and, ROUNDS
// times, "switches" to task A then task B by calling `switchto(prev = RDI, next = RSI)` as the
// kernel calls __switch_to(prev, next). The task records are laid out as TASK_LAYOUT says, so the
// sensor reads pid, tgid and comm from guest RAM exactly as it reads a task_struct.
const ROUNDS = 200;
const SWITCH_TO = 0x7d00n;
const TASK_A = 0x7d40;
const TASK_B = 0x7d60;
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
mov $${ROUNDS},%r12d
again:
mov $0x${TASK_B.toString(16)},%edi
mov $0x${TASK_A.toString(16)},%esi
call switchto
mov $0x${TASK_A.toString(16)},%edi
mov $0x${TASK_B.toString(16)},%esi
call switchto
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
. = _start + 0x${(TASK_A - 0x7c00).toString(16)}
.long 101, 100, 0, 0
.ascii "taskA\\0"
. = _start + 0x${(TASK_B - 0x7c00).toString(16)}
.long 202, 200, 0, 0
.ascii "taskB\\0"
. = _start + 510
.byte 0x55,0xaa
`;
/** pid, tgid, mm (0: no user address space to read argv from), comm. */
const TASK_LAYOUT: TaskLayout = {
  pid: 0,
  tgid: 4,
  mm: 8,
  comm: 16,
  mmPgd: 0,
  mmArgStart: 0,
  tasks: 0,
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

// Under kvm_pvm a hardware breakpoint is reported again before its instruction runs, so a plain
// step never leaves it (GdbClient lifts it for the step): this proves the GDB sensor works on KVM.
describe('GdbSensor on a KVM guest', { skip: kvmSkipReason(), timeout: 180_000 }, () => {
  let guest: KvmIoGuest | undefined;
  let sensor: GdbSensor | undefined;
  const ramPath = `/dev/shm/vmsight-gdb-kvm-${process.pid}`;
  after(async () => {
    await sensor?.stop().catch(() => undefined);
    await guest?.stop();
    await rm(ramPath, { force: true });
  });

  it('stops at every switch with hardware breakpoints and names the next task from guest RAM', async (t) => {
    const port = await freePort();
    guest = await startKvmIoGuest([], 0, {
      source: SOURCE,
      // prettier-ignore
      extraArgs: [
        '-object', `memory-backend-file,id=ram0,size=16M,mem-path=${ramPath},share=on`,
        '-machine', 'memory-backend=ram0', '-gdb', `tcp:127.0.0.1:${port}`,
      ],
    });
    const tasks = RamTaskReader.open(ramPath, TASK_LAYOUT);
    sensor = new GdbSensor({ vm: 'kvm', gdb: { port }, contextSwitch: SWITCH_TO, tasks });
    await sensor.start();
    const events: GuestEvent[] = [];
    const consumed = (async () => {
      for await (const event of sensor.events()) events.push(event);
    })();
    const deadline = Date.now() + 120_000;
    while ((await guest.completions()) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await guest.completions(), 1, 'the guest ran to its end under the breakpoints');
    await sensor.stop();
    await consumed;
    const stats = sensor.stats();
    t.diagnostic(
      `hits ${stats.hits}, ${stats.hitsPerSecond.toFixed(0)} hits/s, step retries ${stats.stepRetries}`,
    );
    assert.equal(stats.hits, 2 * ROUNDS);
    assert.equal(stats.dropped, 0);
    // The first switch only sets the current task (there is no "from" yet); each later one is
    // an event naming both sides, alternating B (pid 202) and A (pid 101).
    const switches = events.filter((event) => event.type === 'context-switch');
    assert.equal(switches.length, 2 * ROUNDS - 1);
    switches.forEach((event, index) => {
      const [to, from] = index % 2 === 0 ? [202, 101] : [101, 202];
      assert.equal(event.process?.pid, to, `switch ${index}`);
      assert.equal(event.type === 'context-switch' ? event.from.pid : -1, from);
      assert.equal(event.process?.comm, to === 101 ? 'taskA' : 'taskB');
      assert.equal(event.process?.tgid, to === 101 ? 100 : 200);
    });
  });
});
