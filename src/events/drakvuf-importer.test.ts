// Records in the layout DRAKVUF's `syscalls` plugin writes with `-o json`, per tklengyel/drakvuf
// cb6213981f71: key order and value kinds from src/plugins/output_format/jsonfmt.h:473-504
// (`get_common_data`, `print`), the syscall keys from src/plugins/syscalls/linux.cpp:266-275
// (`print_syscall`), the sysret keys from src/plugins/syscalls/syscalls.cpp:121-128
// (`print_sysret`), the Windows keys from src/plugins/syscalls/win.cpp:826-836. How the fixture
// file was made, and which of its values are invented, is in fixtures/README.md.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { byByte, collect, fixture, rejection } from './internal-test/test-support.js';
import { parseDrakvuf, readDrakvuf, type DrakvufCounts } from './drakvuf-importer.js';
import { groupSyscallTraces } from './group-syscall-traces.js';
import type { GuestEvent, SyscallEvent } from './guest-event.js';
import { readSyscallTraces } from './read-syscall-traces.js';

const FIXTURE = fixture('drakvuf-syscalls-sh-cat.jsonl');

const syscalls = (events: GuestEvent[]): SyscallEvent[] =>
  events.filter((event): event is SyscallEvent => event.type === 'syscall');

/** The keys jsonfmt.h `get_common_data` writes after "Plugin", for thread 500 of `cat`. */
function common(plugin: string, timeStamp: string, eventUid: string): Record<string, unknown> {
  return {
    Plugin: plugin,
    TimeStamp: timeStamp,
    PID: 500,
    PPID: 1,
    TID: 500,
    UserId: 1000,
    ProcessName: '/usr/bin/cat',
    Method: 'openat',
    EventUID: eventUid,
  };
}

/** A `syscall` record with the keys in DRAKVUF's order; `fields` overrides or adds keys. */
function entry(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...common('syscall', '1795386933.283833', '0x2a'),
    ThreadName: 'cat',
    Module: 'linux',
    vCPU: 1,
    CR3: '0x11b82000',
    Syscall: 257,
    NArgs: 4,
    Type: 'x64',
    dirfd: '0xffffff9c',
    pathname: '/etc/host"name\n',
    flags: '0x80000',
    mode: '0x0',
    ...fields,
  };
}

/** The `sysret` record of {@link entry}'s call. */
function sysret(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...common('sysret', '1795386933.283901', '0x2b'),
    Module: 'linux',
    vCPU: 1,
    CR3: '0x11b82000',
    Syscall: 257,
    Ret: '0xfffffffffffffffe',
    Info: '',
    ...fields,
  };
}

const jsonl = (...records: Record<string, unknown>[]): string =>
  records.map((record) => JSON.stringify(record)).join('\n') + '\n';

async function parse(text: string, options = {}): Promise<GuestEvent[]> {
  return collect(parseDrakvuf([text], { source: 'run.jsonl', ...options }));
}

async function failure(text: string, options = {}): Promise<{ code: string; message: string }> {
  const error = await rejection(parse(text, options));
  assert.ok(isVmsightError(error), String(error));
  return error;
}

test('fixture: every syscall record becomes an event with its sysret return value', async () => {
  let counts: DrakvufCounts | undefined;
  const events = await collect(readDrakvuf(FIXTURE, { onCounts: (value) => (counts = value) }));
  assert.deepEqual(counts, {
    syscalls: 322,
    sysrets: 319,
    unmatchedSysrets: 0,
    otherPlugins: 2,
    skippedUnknown: 0,
  });
  const calls = syscalls(events);
  assert.equal(calls.length, 322);
  const first = calls[0];
  assert.deepEqual(first, {
    type: 'syscall',
    vm: 'drakvuf-syscalls-sh-cat.jsonl',
    vcpu: 0,
    time: 1_795_386_933_280_618_000n,
    process: { pid: 12801, tgid: 12801, comm: 'strace', programKey: '/usr/bin/strace' },
    abi: 'x86-64',
    nr: 59,
    name: 'execve',
    returnValue: 0n,
  });
  const cat = calls.filter((call) => call.process?.pid === 12803);
  assert.equal(cat[0]?.process?.comm, 'sh', 'the vfork child runs the shell until its execve');
  assert.deepEqual(cat.at(-1)?.process, {
    pid: 12803,
    tgid: 12803,
    comm: 'cat',
    programKey: '/usr/bin/cat',
  });
  assert.ok(cat.every((call) => call.vcpu === 1));
  assert.ok(
    cat.some((call) => call.name === 'openat' && call.returnValue === -2n),
    'cat of a missing file fails to open it with -ENOENT',
  );
  const exits = events.filter((event) => event.type === 'process-exit');
  assert.deepEqual(
    exits.map((event) => [event.process.pid, event.process.programKey]),
    [
      [12802, '/usr/bin/cat'],
      [12803, '/usr/bin/cat'],
      [12801, '/usr/bin/dash'],
    ],
  );
  const times = calls.filter((call) => call.process?.pid === 12801).map((call) => call.time ?? 0n);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    'per-thread order is kept',
  );
});

test('fixture: one byte per chunk gives the same events', async () => {
  const text = readFileSync(FIXTURE);
  const whole = await collect(parseDrakvuf([text]));
  const split = await collect(parseDrakvuf(byByte(text)));
  assert.deepEqual(split, whole);
});

test('fixture: the existing grouping gives one trace per process and program', async () => {
  const traces = await collect(groupSyscallTraces(readDrakvuf(FIXTURE), { source: 'run' }));
  assert.deepEqual(
    traces.map((trace) => [trace.pid, trace.programKey, trace.calls.length]),
    [
      [12801, '/usr/bin/strace', 1],
      [12802, '/usr/bin/dash', 2],
      [12802, '/usr/bin/cat', 117],
      [12803, '/usr/bin/dash', 2],
      [12803, '/usr/bin/cat', 116],
      [12801, '/usr/bin/dash', 84],
    ],
  );
  const viaFormat = await collect(readSyscallTraces('drakvuf', FIXTURE));
  assert.deepEqual(
    viaFormat.map((trace) => trace.calls),
    traces.map((trace) => trace.calls),
  );
});

test('threads: pid is the TID, tgid the PID; sysrets pair by thread and name', async () => {
  const events = await parse(
    jsonl(
      entry({ TID: 501, Method: 'read', Syscall: 0 }),
      entry(),
      sysret(),
      sysret({ TID: 501, Method: 'read', Syscall: 0, Ret: '0x10' }),
      sysret({ TID: 502, Method: 'read' }),
    ),
  );
  const calls = syscalls(events);
  assert.deepEqual(
    calls.map((call) => [call.process?.pid, call.process?.tgid, call.name, call.returnValue]),
    [
      [500, 500, 'openat', -2n],
      [501, 500, 'read', 16n],
    ],
  );
});

test('a call without a sysret is emitted when its thread makes the next call or input ends', async () => {
  let counts: DrakvufCounts | undefined;
  const events = await parse(jsonl(entry({ Method: 'read', Syscall: 0 }), entry()), {
    onCounts: (value: DrakvufCounts) => (counts = value),
  });
  assert.deepEqual(
    syscalls(events).map((call) => [call.name, call.returnValue]),
    [
      ['read', undefined],
      ['openat', undefined],
    ],
  );
  assert.equal(counts?.sysrets, 0);
  const bounded = await parse(jsonl(entry(), entry({ TID: 501 }), entry({ TID: 502 })), {
    maxOpenCalls: 1,
  });
  assert.deepEqual(
    syscalls(bounded).map((call) => call.process?.pid),
    [500, 501, 502],
  );
});

test("x32 records map by name through the i386 table; DRAKVUF's sendfile64 is x86-64 sendfile", async () => {
  const [compat] = syscalls(await parse(jsonl(entry({ Method: 'read', Syscall: 0, Type: 'x32' }))));
  assert.deepEqual([compat?.abi, compat?.nr, compat?.name], ['i386', 3, 'read']);
  const [sendfile] = syscalls(await parse(jsonl(entry({ Method: 'sendfile64', Syscall: 40 }))));
  assert.deepEqual([sendfile?.nr, sendfile?.name], [40, 'sendfile']);
});

test('other plugins are skipped and counted; names fall back when DRAKVUF prints "(null)"', async () => {
  let counts: DrakvufCounts | undefined;
  const events = await parse(
    jsonl(
      { Plugin: 'procmon', TimeStamp: '1.000000', PID: 1, PPID: 0, RunningProcess: '/sbin/init' },
      { Plugin: 'filetracer', Method: 'vfs_read' },
      entry({ ProcessName: '(null)', ThreadName: 'kworker/0:1' }),
    ),
    { onCounts: (value: DrakvufCounts) => (counts = value) },
  );
  assert.equal(counts?.otherPlugins, 2);
  assert.deepEqual(syscalls(events)[0]?.process, {
    pid: 500,
    tgid: 500,
    comm: 'kworker/0:1',
    programKey: 'kworker/0:1',
  });
});

test('unknown call names are errors naming line and field, or skipped on request', async () => {
  const text = jsonl(entry({ Method: 'read', Syscall: 0 }), entry({ Method: 'nosuchcall' }));
  const error = await failure(text);
  assert.equal(error.code, 'INVALID_INPUT');
  assert.match(error.message, /"run\.jsonl" line 2 field "Method": .*x86-64.*"nosuchcall"/);
  const skipped = await parse(text, { unknownSyscalls: 'skip' });
  assert.deepEqual(
    syscalls(skipped).map((call) => call.name),
    ['read'],
  );
});

test('malformed lines name the line and field', async () => {
  const cases: [string, RegExp][] = [
    ['{"Plugin":"syscall",', /line 3: expected one JSON value per line/],
    ['[1,2]', /line 3: expected a JSON object per line/],
    [JSON.stringify({ ...entry(), PID: undefined, TID: undefined }), /field "PID": .*present/],
    [JSON.stringify(entry({ PID: -1 })), /field "PID": expected an integer from 0/],
    [JSON.stringify(entry({ TimeStamp: 1795386933 })), /field "TimeStamp"/],
    [JSON.stringify(entry({ TimeStamp: '1795386933.28' })), /field "TimeStamp"/],
    [JSON.stringify(entry({ Type: 'arm64' })), /field "Type": expected "x64" or "x32"/],
    [JSON.stringify(entry({ vCPU: '0' })), /field "vCPU"/],
    [JSON.stringify(entry({ Method: null })), /field "Method"/],
    [JSON.stringify(sysret({ Ret: '-2' })), /field "Ret"/],
    [JSON.stringify({ Plugin: 7 }), /field "Plugin"/],
  ];
  for (const [line, pattern] of cases) {
    const error = await failure(`${JSON.stringify(entry({ Method: 'read' }))}\n\n${line}\n`);
    assert.equal(error.code, 'INVALID_INPUT', line);
    assert.match(error.message, /^Cannot parse "run\.jsonl" line 3/, line);
    assert.match(error.message, pattern, line);
  }
});

test('Windows records are refused with the reason, naming the line', async () => {
  const windows = {
    Plugin: 'syscall',
    TimeStamp: '1706000000.000000',
    PID: 4567,
    PPID: 1000,
    TID: 4568,
    UserId: 0,
    ProcessName: '\\Device\\HarddiskVolume2\\Windows\\System32\\notepad.exe',
    Method: 'NtCreateFile',
    EventUID: '0x1',
    Module: 'nt',
    vCPU: 0,
    CR3: '0x1a2b3c4d',
    Syscall: 85,
    NArgs: 11,
    PreviousMode: 'User',
    FromModule: 'ntdll.dll',
    FileHandle: '0x0',
  };
  const error = await failure(jsonl(windows));
  assert.match(
    error.message,
    /line 1 field "Module": expected a Linux record: Windows system calls/,
  );
  assert.match(error.message, /NtCreateFile/);
});

test('hostile input: overlong lines, long names and prototype keys stay bounded', async () => {
  const long = await failure(jsonl(entry({ pathname: 'x'.repeat(5000) })), { maxLineBytes: 4096 });
  assert.equal(long.code, 'LIMIT_EXCEEDED');
  assert.match(long.message, /line 1/);
  const name = await failure(jsonl(entry({ ProcessName: '/'.repeat(5000) })));
  assert.match(name.message, /field "ProcessName": expected a string of at most 4096 characters/);
  const polluted = `{"__proto__":{"PID":1},${JSON.stringify(entry()).slice(1)}\n`;
  const [call] = syscalls(await parse(polluted));
  assert.equal(call?.process?.pid, 500);
  assert.equal(({} as Record<string, unknown>)['PID'], undefined);
});
