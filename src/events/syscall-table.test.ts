import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SYSCALL_ABIS, SyscallTable, parseSyscallAbi } from './syscall-table.js';

test('x86-64 table maps names and numbers both ways', () => {
  const table = SyscallTable.for('x86-64');
  assert.equal(table.name(0), 'read');
  assert.equal(table.name(59), 'execve');
  assert.equal(table.name(231), 'exit_group');
  assert.equal(table.number('openat'), 257);
  assert.equal(table.number('newfstatat'), 262);
  assert.ok(table.size > 350);
});

test('i386 table has the numbers ADFA-LD uses', () => {
  const table = SyscallTable.for('i386');
  assert.equal(table.name(252), 'exit_group');
  assert.equal(table.name(195), 'stat64');
  assert.equal(table.name(340), 'prlimit64');
  assert.equal(table.name(11), 'execve');
  assert.equal(table.number('socketcall'), 102);
});

test('unknown names and numbers, including hostile indexes, are undefined', () => {
  const table = SyscallTable.for('x86-64');
  assert.equal(table.name(-1), undefined);
  assert.equal(table.name(1.5), undefined);
  assert.equal(table.name(100_000), undefined);
  assert.equal(table.number('no_such_call'), undefined);
  assert.equal(table.number('__proto__'), undefined);
  assert.equal(table.number('constructor'), undefined);
});

test('tables are cached and every ABI has one', () => {
  for (const abi of SYSCALL_ABIS) {
    assert.equal(SyscallTable.for(abi), SyscallTable.for(abi));
    assert.equal(SyscallTable.for(abi).abi, abi);
  }
});

test('parseSyscallAbi accepts the usual spellings only', () => {
  assert.equal(parseSyscallAbi('x86_64'), 'x86-64');
  assert.equal(parseSyscallAbi('AMD64'), 'x86-64');
  assert.equal(parseSyscallAbi('i686'), 'i386');
  assert.equal(parseSyscallAbi('arm64'), undefined);
});
