import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SyscallEvent } from '../events/index.js';
import { ArgumentModel, argumentKey } from './argument-model.js';

const call = (nr: number, name: string, extra: Partial<SyscallEvent>): SyscallEvent => ({
  type: 'syscall',
  vm: 'lab',
  vcpu: 0,
  time: null,
  abi: 'x86-64',
  nr,
  name,
  ...extra,
});

test('argument keys: absolute printable paths with digits folded, peers as they are', () => {
  assert.equal(
    argumentKey(call(257, 'openat', { path: '/proc/1234/stat' })),
    'openat /proc/N/stat',
  );
  assert.equal(
    argumentKey(call(42, 'connect', { address: '127.0.0.1:4444' })),
    'connect 127.0.0.1:4444',
  );
  // A relative path depends on the working directory; torn reads of reused memory; AF_UNSPEC;
  // execve is judged by the program it starts.
  assert.equal(argumentKey(call(257, 'openat', { path: ':8080/index.html' })), undefined);
  assert.equal(argumentKey(call(257, 'openat', { path: '/dev/nul\u00a3' })), undefined);
  assert.equal(argumentKey(call(42, 'connect', { address: 'family:0' })), undefined);
  assert.equal(argumentKey(call(59, 'execve', { path: '/tmp/p.sh' })), undefined);
});

test('the model flags a file its program never touched in training, and only that', () => {
  const model = ArgumentModel.empty();
  model.add('cat', call(257, 'openat', { path: '/tmp/notes.1' }));
  assert.equal(model.novel('cat', call(257, 'openat', { path: '/tmp/notes.2' })), undefined);
  assert.equal(model.novel('cat', call(257, 'openat', { path: 'notes.txt' })), undefined);
  assert.equal(
    model.novel('cat', call(257, 'openat', { path: '/etc/shadow' })),
    'openat /etc/shadow',
  );
  const reloaded = ArgumentModel.fromJSON(JSON.parse(JSON.stringify(model)), 'test');
  assert.equal(reloaded.novel('cat', call(257, 'openat', { path: '/tmp/notes.3' })), undefined);
});
