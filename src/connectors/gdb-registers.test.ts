import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isVmsightError } from '../core/index.js';
import {
  X86_64_QEMU_REGISTERS,
  decodeGdbRegisters,
  decodeRegisterHex,
  parseTargetXmlRegisters,
} from './gdb-registers.js';
import { isStopReply, parseStopReply } from './gdb-stop-reply.js';

const le = (value: bigint, bytes: number): string =>
  Buffer.from(value.toString(16).padStart(bytes * 2, '0'), 'hex')
    .reverse()
    .toString('hex');

void describe('x86-64 register layout', () => {
  void it('is the 608-byte QEMU 7.2 g packet, with control registers after the segment selectors', () => {
    const bytes = X86_64_QEMU_REGISTERS.reduce((sum, reg) => sum + reg.bits / 8, 0);
    assert.equal(bytes, 608);
    const names = X86_64_QEMU_REGISTERS.map((reg) => reg.name);
    assert.deepEqual(names.slice(16, 33), [
      'rip',
      'eflags',
      'cs',
      'ss',
      'ds',
      'es',
      'fs',
      'gs',
      'fs_base',
      'gs_base',
      'k_gs_base',
      'cr0',
      'cr2',
      'cr3',
      'cr4',
      'cr8',
      'efer',
    ]);
  });

  void it('decodes a g reply by the table', () => {
    const values = new Map<string, bigint>([
      ['rip', 0xffffffff81c00080n],
      ['cr3', 0x6134000n],
      ['cr4', 0x750ef0n],
      ['k_gs_base', 0xffff88800f800000n],
      ['eflags', 0x246n],
      ['rax', 273n],
    ]);
    const reply = X86_64_QEMU_REGISTERS.map((reg) =>
      le(values.get(reg.name) ?? 0n, reg.bits / 8),
    ).join('');
    const regs = decodeGdbRegisters(reply);
    assert.equal(regs.rip, 0xffffffff81c00080n);
    assert.equal(regs.cr3, 0x6134000n);
    assert.equal(regs.kernelGsBase, 0xffff88800f800000n);
    assert.equal(regs.values.get('eflags'), 0x246n);
    assert.equal(regs.values.get('rax'), 273n);
    assert.equal(regs.raw.length, 608);
    assert.throws(
      () => decodeGdbRegisters(reply.slice(0, 600)),
      (e: unknown) => isVmsightError(e, 'TRUNCATED_INPUT'),
    );
    assert.throws(
      () => decodeGdbRegisters(`zz${reply}`),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
    assert.equal(decodeRegisterHex('xx01'), 0x100n);
  });

  void it('reads register names from a target description, skipping comments', () => {
    const xml =
      '<feature><reg name="rax" bitsize="64"/><!--reg name="ss_base" bitsize="64"/--><reg name="st0" bitsize="80" type="i387_ext"/></feature>';
    assert.deepEqual(parseTargetXmlRegisters(xml), [
      { name: 'rax', bits: 64 },
      { name: 'st0', bits: 80 },
    ]);
  });
});

void describe('parseStopReply', () => {
  void it('parses T, S, W and X replies', () => {
    const t = parseStopReply('T05thread:p01.01;');
    assert.equal(t.kind, 'signal');
    assert.ok(t.kind === 'signal');
    assert.equal(t.signal, 5);
    assert.equal(t.thread, 'p01.01');
    const watch = parseStopReply('T05thread:01;watch:ffffffff83086966;');
    assert.ok(watch.kind === 'signal');
    assert.equal(watch.reason, 'watch');
    assert.equal(watch.watchAddress, 0xffffffff83086966n);
    assert.deepEqual(parseStopReply('S02'), { kind: 'signal', signal: 2, pairs: new Map() });
    assert.deepEqual(parseStopReply('W00'), { kind: 'exited', status: 0 });
    assert.deepEqual(parseStopReply('X09'), { kind: 'terminated', signal: 9 });
    assert.equal(isStopReply('OK'), false);
    assert.equal(isStopReply('E22'), false);
    assert.throws(
      () => parseStopReply('T'),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
    assert.throws(
      () => parseStopReply('Q05'),
      (e: unknown) => isVmsightError(e, 'INVALID_INPUT'),
    );
  });
});
