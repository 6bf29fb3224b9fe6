import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { collect, rejection } from './internal-test/test-support.js';
import { groupSyscallTraces, type GroupSyscallTracesOptions } from './group-syscall-traces.js';
import type { GuestEvent, GuestProcess } from './guest-event.js';

const proc = (pid: number, programKey = '/bin/sh'): GuestProcess => ({
  pid,
  tgid: pid,
  comm: 'sh',
  programKey,
});
const call = (
  nr: number,
  process?: GuestProcess,
  abi: 'x86-64' | 'i386' = 'x86-64',
): GuestEvent => ({
  type: 'syscall',
  vm: 'lab',
  vcpu: 0,
  time: null,
  abi,
  nr,
  ...(process === undefined ? {} : { process }),
});
const exit = (process: GuestProcess): GuestEvent => ({
  type: 'process-exit',
  vm: 'lab',
  vcpu: 0,
  time: null,
  process,
});

async function group(events: GuestEvent[], options: GroupSyscallTracesOptions = {}) {
  const traces = await collect(groupSyscallTraces(events, { source: 'src', ...options }));
  return traces.map((trace) => [trace.pid, trace.programKey, trace.abi, [...trace.calls]]);
}

test('one trace per process, emitted at exit and at the end in opening order', async () => {
  const events = [
    call(1, proc(10)),
    call(2, proc(11)),
    call(3, proc(10)),
    exit(proc(11)),
    call(4, proc(12)),
    call(5),
  ];
  assert.deepEqual(await group(events), [
    [11, '/bin/sh', 'x86-64', [2]],
    [10, '/bin/sh', 'x86-64', [1, 3]],
    [12, '/bin/sh', 'x86-64', [4]],
    [undefined, '(unknown)', 'x86-64', [5]],
  ]);
});

test('a new program image or ABI starts a new trace; ids are unique', async () => {
  const events = [
    call(59, proc(10)),
    call(59, proc(10, '/bin/ls')),
    call(1, proc(10, '/bin/ls')),
    call(3, proc(10, '/bin/ls'), 'i386'),
    { type: 'process-start', vm: 'lab', vcpu: 0, time: null, process: proc(10, '/bin/x') } as const,
    call(7, proc(10, '/bin/x')),
  ];
  assert.deepEqual(await group(events), [
    [10, '/bin/sh', 'x86-64', [59]],
    [10, '/bin/ls', 'x86-64', [59, 1]],
    [10, '/bin/ls', 'i386', [3]],
    [10, '/bin/x', 'x86-64', [7]],
  ]);
  const ids = (await collect(groupSyscallTraces(events, { source: 'src' }))).map((t) => t.id);
  assert.deepEqual(ids, ['src:pid-10:1', 'src:pid-10:2', 'src:pid-10:3', 'src:pid-10:4']);
});

test('splitOnExec false keeps one trace per pid', async () => {
  const events = [call(59, proc(10)), call(59, proc(10, '/bin/ls')), call(1, proc(10, '/bin/ls'))];
  assert.deepEqual(await group(events, { splitOnExec: false }), [
    [10, '/bin/sh', 'x86-64', [59, 59, 1]],
  ]);
});

test('limits split traces by default and throw LIMIT_EXCEEDED on request', async () => {
  const events = [
    call(1, proc(1)),
    call(2, proc(1)),
    call(3, proc(1)),
    call(4, proc(2)),
    call(5, proc(3)),
  ];
  assert.deepEqual(await group(events, { maxCallsPerTrace: 2 }), [
    [1, '/bin/sh', 'x86-64', [1, 2]],
    [1, '/bin/sh', 'x86-64', [3]],
    [2, '/bin/sh', 'x86-64', [4]],
    [3, '/bin/sh', 'x86-64', [5]],
  ]);
  assert.deepEqual(await group(events, { maxOpenProcesses: 2 }), [
    [1, '/bin/sh', 'x86-64', [1, 2, 3]],
    [2, '/bin/sh', 'x86-64', [4]],
    [3, '/bin/sh', 'x86-64', [5]],
  ]);
  assert.deepEqual(await group(events, { maxBufferedCalls: 3 }), [
    [1, '/bin/sh', 'x86-64', [1, 2, 3]],
    [2, '/bin/sh', 'x86-64', [4]],
    [3, '/bin/sh', 'x86-64', [5]],
  ]);
  for (const option of [
    { maxCallsPerTrace: 2 },
    { maxOpenProcesses: 2 },
    { maxBufferedCalls: 3 },
  ]) {
    const error = await rejection(group(events, { ...option, onLimit: 'error' }));
    assert.ok(isVmsightError(error, 'LIMIT_EXCEEDED'), JSON.stringify(option));
    assert.match(error.message, /^Cannot group "src" into traces: more than \d+ /);
  }
});

test('other event types are ignored', async () => {
  const events: GuestEvent[] = [
    {
      type: 'port-io',
      vm: 'lab',
      vcpu: 0,
      time: null,
      port: 0x80,
      direction: 'write',
      size: 1,
      value: 0,
    },
    call(1, proc(1)),
  ];
  assert.deepEqual(await group(events), [[1, '/bin/sh', 'x86-64', [1]]]);
});
