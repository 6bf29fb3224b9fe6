import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { adfaLdDataset, collect, fixture, rejection } from './internal-test/test-support.js';
import {
  isTraceFormat,
  readGuestEvents,
  readSyscallTraces,
  type TraceFormat,
} from './read-syscall-traces.js';
import type { SyscallTrace } from './syscall-trace.js';
import { writeVmtrace } from './vmtrace-writer.js';

const summary = (traces: SyscallTrace[]) =>
  traces.map((trace) => [trace.pid, trace.programKey, trace.abi, trace.calls.length]);

test('strace: one trace per process and program image', async () => {
  const traces = await collect(readSyscallTraces('strace', fixture('strace-f-pid-first.txt')));
  assert.deepEqual(summary(traces), [
    [6914, '/usr/bin/sh', 'x86-64', 1],
    [6914, '/bin/true', 'x86-64', 30],
    [6913, '/usr/bin/sh', 'x86-64', 64],
  ]);
  assert.equal(traces[0]?.source, fixture('strace-f-pid-first.txt'));
});

test('auditd: one trace per process', async () => {
  const traces = await collect(readSyscallTraces('auditd', fixture('auditd-cat.log')));
  assert.deepEqual(summary(traces), [
    [6725, '/usr/bin/cat', 'x86-64', 116],
    [6726, '/usr/bin/cat', 'x86-64', 118],
    [6720, '/usr/sbin/auditctl', 'x86-64', 1],
  ]);
});

test('vmtrace: events recorded from strace group into the same traces', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmsight-read-'));
  const path = join(dir, 'replay.vmtrace.jsonl.zst');
  const source = fixture('strace-f-tt-T.txt');
  await writeVmtrace(readGuestEvents('strace', source), path);
  const direct = await collect(readSyscallTraces('strace', source));
  const replayed = await collect(readSyscallTraces('vmtrace', path));
  assert.deepEqual(summary(replayed), summary(direct));
  assert.deepEqual(
    replayed.map((trace) => [...trace.calls]),
    direct.map((trace) => [...trace.calls]),
  );
});

test('adfa: one labelled trace per file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmsight-read-'));
  const file = join(dir, 'UTD-0001.txt');
  writeFileSync(file, '6 6 63 ');
  const [trace] = await collect(readSyscallTraces('adfa', file));
  assert.deepEqual(trace && [trace.abi, [...trace.calls]], ['i386', [6, 6, 63]]);
});

test('limits pass through to grouping', async () => {
  const error = await rejection(
    collect(
      readSyscallTraces('auditd', fixture('auditd-cat.log'), {
        maxCallsPerTrace: 10,
        onLimit: 'error',
      }),
    ),
  );
  assert.ok(isVmsightError(error, 'LIMIT_EXCEEDED'));
});

test('unknown formats are INVALID_ARGUMENT; isTraceFormat validates --format', () => {
  assert.equal(isTraceFormat('vmtrace'), true);
  assert.equal(isTraceFormat('pcap'), false);
  assert.throws(
    () => readSyscallTraces('pcap' as TraceFormat, 'x'),
    (error: unknown) => isVmsightError(error, 'INVALID_ARGUMENT'),
  );
});

const dataset = adfaLdDataset();

test(
  'adfa: the real dataset through the entry point, training split',
  { skip: dataset.skip },
  async () => {
    let traces = 0;
    let calls = 0;
    for await (const trace of readSyscallTraces(
      'adfa',
      join(dataset.root, 'Training_Data_Master'),
    )) {
      assert.deepEqual(trace.label, { kind: 'normal', split: 'training' });
      traces += 1;
      calls += trace.calls.length;
    }
    assert.deepEqual([traces, calls], [833, 308_077]);
  },
);
