import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { byByte, collect, fixture, rejection } from './internal-test/test-support.js';
import type { GuestEvent, SyscallEvent } from './guest-event.js';
import { parseStrace, readStrace } from './strace-importer.js';

const syscalls = (events: GuestEvent[]): SyscallEvent[] =>
  events.filter((event): event is SyscallEvent => event.type === 'syscall');

async function parse(text: string, options = {}): Promise<GuestEvent[]> {
  return collect(parseStrace([text], { source: 'test.strace', ...options }));
}

const FIXTURES = [
  // [file, syscalls, first pid (sh), child pid]; counts are the lines that start a call.
  ['strace-f-pid-first.txt', 95, 6913, 6914],
  ['strace-f-tt-T.txt', 201, 6918, 6919],
  ['strace-f-ttt.txt', 92, 6923, 6924],
] as const;

for (const [name, count, parent, child] of FIXTURES) {
  test(`real fixture ${name}: calls, processes and programs`, async () => {
    const events = await collect(readStrace(fixture(name), { date: '2026-11-22' }));
    const calls = syscalls(events);
    assert.equal(calls.length, count);
    const starts = events.filter((event) => event.type === 'process-start');
    assert.deepEqual(
      starts.map((event) => [event.process.pid, event.parentPid]),
      [[child, parent]],
    );
    const exits = events.filter((event) => event.type === 'process-exit');
    assert.deepEqual(
      exits.map((event) => [event.process.pid, event.exitCode]),
      [
        [child, 0],
        [parent, 0],
      ],
    );
    assert.deepEqual(calls[0] && [calls[0].name, calls[0].nr, calls[0].process?.programKey], [
      'execve',
      59,
      '/usr/bin/sh',
    ]);
    assert.ok(calls.every((call) => call.process?.pid === parent || call.process?.pid === child));
    const lastOfChild = calls.filter((call) => call.process?.pid === child).at(-1);
    assert.equal(lastOfChild?.name, 'exit_group');
    assert.equal(lastOfChild?.returnValue, undefined);
  });

  test(`real fixture ${name}: one byte per chunk gives the same events`, async () => {
    const bytes = readFileSync(fixture(name));
    const whole = await collect(parseStrace([bytes], { source: name }));
    assert.deepEqual(await collect(parseStrace(byByte(bytes), { source: name })), whole);
  });
}

test('-tt times use the given date, -ttt times are epoch, -T durations are ignored', async () => {
  const [tt] = syscalls(
    await collect(readStrace(fixture('strace-f-tt-T.txt'), { date: '2026-11-22' })),
  );
  // 02:42:56.976271 on 2026-11-22 UTC.
  assert.equal(tt?.time, 1_795_315_376_976_271_000n);
  const [ttt] = syscalls(await collect(readStrace(fixture('strace-f-ttt.txt'))));
  assert.equal(ttt?.time, 1_795_315_376_996_261_000n);
  const [plain] = syscalls(await parse('read(3, "", 1) = 0 <0.000010>\n'));
  assert.equal(plain?.time, null);
  assert.equal(plain?.returnValue, 0n);
});

test('unfinished and resumed calls are joined per pid, in entry order', async () => {
  const events = await parse(
    [
      '[pid 10] wait4(-1,  <unfinished ...>',
      '[pid 11] write(1, "hi\\n", 3) = 3',
      '[pid 11] exit_group(0) = ?',
      '[pid 11] +++ exited with 0 +++',
      '[pid 10] <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 11',
      '[pid 10] --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11} ---',
      '[pid 10] openat(AT_FDCWD, "/x) = 5", O_RDONLY) = -1 ENOENT (No such file or directory)',
    ].join('\n'),
  );
  const calls = syscalls(events);
  assert.deepEqual(
    calls.map((call) => [call.process?.pid, call.name, call.returnValue, call.errorName]),
    [
      [11, 'write', 3n, undefined],
      [11, 'exit_group', undefined, undefined],
      [10, 'wait4', 11n, undefined],
      [10, 'openat', -1n, 'ENOENT'],
    ],
  );
  assert.ok(events.some((event) => event.type === 'process-exit' && event.process.pid === 11));
});

test('strace messages inside a call line are cut out and the call joined', async () => {
  const events = await parse(
    [
      'vfork(strace: Process 21 attached',
      ' <unfinished ...>',
      '[pid 21] execve("/bin/true", ["true"], 0x7ffc /* 3 vars */) = 0',
      '[pid 20] <... vfork resumed>) = 21',
      '[pid 21] +++ exited with 0 +++',
      'exit_group(0) = ?',
      '+++ exited with 0 +++',
    ].join('\n'),
  );
  assert.deepEqual(
    events.map((event) => [event.type, event.process?.pid, event.process?.programKey]),
    [
      ['process-start', 21, '(unknown)'],
      ['syscall', 21, '/bin/true'],
      ['syscall', 20, '(unknown)'],
      ['process-exit', 21, '/bin/true'],
      ['syscall', 20, '(unknown)'],
      ['process-exit', 20, '(unknown)'],
    ],
  );
});

test('a single process traced without -f gets pid 0 unless told its pid', async () => {
  const text = 'execve("/bin/echo", ["echo"], 0x1 /* 1 var */) = 0\nwrite(1, "\\n", 1) = 1\n';
  const events = await parse(text);
  assert.deepEqual(
    events.map((event) => event.process?.pid),
    [0, 0],
  );
  assert.deepEqual(
    events.map((event) => event.process?.programKey),
    ['/bin/echo', '/bin/echo'],
  );
  assert.deepEqual(
    (await parse(text, { pid: 77 })).map((event) => event.process?.pid),
    [77, 77],
  );
});

test('threads share the tgid of the process that cloned them', async () => {
  const events = await parse(
    [
      '[pid 30] clone(child_stack=0x7f, flags=CLONE_VM|CLONE_FS|CLONE_THREAD|CLONE_SYSVSEM) = 31',
      '[pid 31] futex(0x7f, FUTEX_WAIT, 0, NULL) = 0',
    ].join('\n'),
    { pid: 30 },
  );
  const futex = syscalls(events).find((call) => call.name === 'futex');
  assert.deepEqual(futex?.process && [futex.process.pid, futex.process.tgid], [31, 30]);
});

test('killed processes, hex and unknown-to-strace calls, 32-bit personality', async () => {
  const events = await parse(
    [
      '[pid 5] syscall_0x1c8(0x1, 0x2) = -1 ENOSYS (Function not implemented)',
      '[pid 5] mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7f0000000000',
      '[ Process PID=5 runs in 32 bit mode. ]',
      '[pid 5] stat64("/", {st_mode=S_IFDIR|0755, ...}) = 0',
      '[pid 5] read(0,  <unfinished ...>',
      '[pid 5] +++ killed by SIGKILL +++',
    ].join('\n'),
  );
  assert.deepEqual(
    syscalls(events).map((call) => [call.abi, call.nr, call.name, call.returnValue]),
    [
      ['x86-64', 0x1c8, undefined, -1n],
      ['x86-64', 9, 'mmap', 0x7f00_0000_0000n],
      ['i386', 195, 'stat64', 0n],
      ['i386', 3, 'read', undefined],
    ],
  );
  const exit = events.at(-1);
  assert.deepEqual(exit?.type === 'process-exit' && exit.signal, 'SIGKILL');
});

test('an unknown call name is an error naming it, unless skipped', async () => {
  const text = '[pid 1] frobnicate(1) = 0\n[pid 1] close(1) = 0\n';
  const error = await rejection(parse(text));
  assert.ok(isVmsightError(error, 'INVALID_INPUT'));
  assert.equal(
    error.message,
    'Cannot parse "test.strace" line 1 column 9: expected a x86-64 system call name, found "frobnicate"',
  );
  const skipped = await parse(text, { unknownSyscalls: 'skip' });
  assert.deepEqual(
    syscalls(skipped).map((call) => call.name),
    ['close'],
  );
});

test('a truncated call line is TRUNCATED_INPUT naming file, line and column', async () => {
  const error = await rejection(
    parse('[pid 1] close(1) = 0\n[pid 1] 12:00:00.000001 openat(AT_FDCWD, "/etc/pass'),
  );
  assert.ok(isVmsightError(error, 'TRUNCATED_INPUT'));
  assert.equal(
    error.message,
    'Cannot parse "test.strace" line 2 column 25: expected a complete openat call ending in ") = <result>" or "<unfinished ...>", found "openat(AT_FDCWD, \\"/etc/pass"',
  );
  const resumed = await rejection(
    parse('[pid 1] read(0,  <unfinished ...>\n[pid 1] <... read resumed>"ab'),
  );
  assert.ok(isVmsightError(resumed, 'TRUNCATED_INPUT'));
  assert.match(resumed.message, /line 2 column 9: expected the end of the resumed read call/);
});

test('lines that are not strace output are errors unless skipped', async () => {
  const text = 'cat: /x: No such file or directory\n[pid 1] close(1) = 0\n';
  const error = await rejection(parse(text));
  assert.match(
    String(error),
    /line 1 column 1: expected a system call, a signal or an exit line, found "cat: \/x/,
  );
  assert.equal((await parse(text, { unrecognizedLines: 'skip' })).length, 1);
});

test('a huge single line hits maxLineBytes', async () => {
  function* endless(): Generator<string> {
    yield '[pid 1] write(1, "';
    for (;;) yield 'A'.repeat(4096);
  }
  const error = await rejection(
    collect(parseStrace(endless(), { source: 'big.strace', maxLineBytes: 100_000 })),
  );
  assert.ok(isVmsightError(error, 'LIMIT_EXCEEDED'));
  assert.match(error.message, /"big\.strace" line 1: it is longer than the limit of 100000 bytes/);
});

test('a bad date option is INVALID_ARGUMENT', async () => {
  const error = await rejection(parse('close(1) = 0\n', { date: '22/11/2026' }));
  assert.ok(isVmsightError(error, 'INVALID_ARGUMENT'));
});

test('pids and call numbers beyond what Linux allows are rejected', async () => {
  const pid = await rejection(parse('[pid 99999999999] close(1) = 0\n'));
  assert.match(
    String(pid),
    /line 1 column 19: expected a process id up to 4194304, found "99999999999"/,
  );
  const nr = await rejection(parse('[pid 1] syscall_0x1ffffffff() = 0\n'));
  assert.match(String(nr), /expected a x86-64 system call name, found "syscall_0x1ffffffff"/);
});
