import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GuestProcess } from '../events/index.js';
import type { TaskReader } from './guest-task-reader.js';
import { TcgEventDecoder } from './tcg-event-decoder.js';
import type { TcgExecRecord, TcgRegisters } from './tcg-log-record.js';

const ENTRY = 0xffffffff81c00080n;
const SWITCH = 0xffffffff81031080n;
const ZERO: TcgRegisters = {
  rax: 0n,
  rdi: 0n,
  rsi: 0n,
  rdx: 0n,
  r10: 0n,
  r8: 0n,
  r9: 0n,
  cr3: 0x6418000n,
};

const exec = (pc: bigint, registers: Partial<TcgRegisters>): TcgExecRecord => ({
  kind: 'exec',
  vcpu: 0,
  pc,
  registers: { ...ZERO, ...registers },
});

/** Tasks by address; `comms` can change, as a real task's does on execve. */
class FakeTasks implements TaskReader {
  readonly comms = new Map<bigint, string>([
    [0x1000n, 'sh'],
    [0x2000n, 'init'],
  ]);
  reads = 0;
  read(task: bigint): GuestProcess | undefined {
    this.reads += 1;
    const comm = this.comms.get(task);
    if (comm === undefined) return undefined;
    const pid = Number(task >> 12n);
    return { pid, tgid: pid, comm, programKey: comm };
  }
  findByCr3(cr3: bigint): { task: bigint; process: GuestProcess } | undefined {
    const process = cr3 === 0x6418000n ? this.read(0x2000n) : undefined;
    return process === undefined ? undefined : { task: 0x2000n, process };
  }
  close(): void {}
}

describe('TcgEventDecoder', () => {
  it('decodes the syscall number and the six argument registers', () => {
    const decoder = new TcgEventDecoder({ vm: 'lab', addresses: { syscallEntry: ENTRY } });
    const event = decoder.decode(
      exec(ENTRY, { rax: 0x101n, rdi: 1n, rsi: 2n, rdx: 3n, r10: 4n, r8: 5n, r9: 6n }),
    );
    assert.deepEqual(event, {
      type: 'syscall',
      vm: 'lab',
      vcpu: 0,
      time: null,
      abi: 'x86-64',
      nr: 257,
      name: 'openat',
      args: [1n, 2n, 3n, 4n, 5n, 6n],
    });
    assert.equal(decoder.unattributed, 1);
  });

  it('attributes syscalls to the task __switch_to switched in, and re-reads it after execve', () => {
    const tasks = new FakeTasks();
    const decoder = new TcgEventDecoder({
      vm: 'lab',
      addresses: { syscallEntry: ENTRY, contextSwitch: SWITCH },
      tasks,
    });
    assert.equal(decoder.decode(exec(SWITCH, { rdi: 0x2000n, rsi: 0x1000n })), undefined);
    const first = decoder.decode(exec(ENTRY, { rax: 59n }));
    assert.equal(first?.process?.comm, 'sh');
    tasks.comms.set(0x1000n, 'sysprobe');
    const second = decoder.decode(exec(ENTRY, { rax: 39n }));
    assert.deepEqual(second?.process, {
      pid: 1,
      tgid: 1,
      comm: 'sysprobe',
      programKey: 'sysprobe',
    });
    const back = decoder.decode(exec(SWITCH, { rdi: 0x1000n, rsi: 0x2000n }));
    assert.equal(back?.type, 'context-switch');
    if (back?.type === 'context-switch') {
      assert.equal(back.from.comm, 'sysprobe');
      assert.equal(back.to.comm, 'init');
    }
    assert.equal(decoder.decode(exec(ENTRY, { rax: 39n }))?.process?.pid, 2);
    assert.equal(decoder.unattributed, 0);
  });

  it('finds the process by its CR3 in the task list before the first context switch', () => {
    const tasks = new FakeTasks();
    const decoder = new TcgEventDecoder({ vm: 'lab', addresses: { syscallEntry: ENTRY }, tasks });
    assert.equal(decoder.decode(exec(ENTRY, { rax: 39n }))?.process?.comm, 'init');
    assert.equal(decoder.decode(exec(ENTRY, { rax: 39n, cr3: 0x9999000n }))?.process?.comm, 'init');
    assert.equal(decoder.unattributed, 0);
    const other = new TcgEventDecoder({ vm: 'lab', addresses: { syscallEntry: ENTRY }, tasks });
    assert.equal(other.decode(exec(ENTRY, { rax: 39n, cr3: 0x9999000n }))?.process, undefined);
    assert.equal(other.unattributed, 1);
  });

  it('counts dumps at addresses that are not probes', () => {
    const decoder = new TcgEventDecoder({ vm: 'lab', addresses: { syscallEntry: ENTRY } });
    assert.equal(decoder.decode(exec(0xffffffff81000000n, {})), undefined);
    assert.equal(decoder.unknownPc, 1);
  });
});
