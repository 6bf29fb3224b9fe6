import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { byByte, collect, fixture, rejection } from './internal-test/test-support.js';
import { parseAuditLog, readAuditLog } from './auditd-importer.js';
import type { GuestEvent, SyscallEvent } from './guest-event.js';

const syscalls = (events: GuestEvent[]): SyscallEvent[] =>
  events.filter((event): event is SyscallEvent => event.type === 'syscall');

/** A record in the kernel's exact layout (kernel/auditsc.c audit_log_exit), i386 this time. */
const I386_RECORD =
  'type=SYSCALL msg=audit(1364481363.243:24287): arch=40000003 syscall=5 success=no exit=-2 ' +
  'a0=bfd19c55 a1=8000 a2=0 a3=bfd1a2f0 items=1 ppid=2686 pid=3538 auid=500 uid=500 gid=500 ' +
  'euid=500 suid=500 fsuid=500 egid=500 sgid=500 fsgid=500 tty=pts0 ses=1 comm="cat" ' +
  'exe="/bin/cat" key=(null)';

async function parse(text: string): Promise<GuestEvent[]> {
  return collect(parseAuditLog([text], { source: 'audit.log' }));
}

test('real auditd fixture: SYSCALL records become events, other records are skipped', async () => {
  const events = await collect(readAuditLog(fixture('auditd-cat.log')));
  const calls = syscalls(events);
  assert.equal(calls.length, 235);
  const byPid = new Map<number, number>();
  for (const call of calls) {
    const pid = call.process?.pid ?? -1;
    byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(byPid), { 6720: 1, 6725: 116, 6726: 118 });
  const first = calls.find((call) => call.process?.pid === 6725);
  assert.deepEqual(first && [first.name, first.nr, first.abi, first.returnValue], [
    'execve',
    59,
    'x86-64',
    0n,
  ]);
  assert.deepEqual(first?.process, {
    pid: 6725,
    tgid: 6725,
    comm: 'cat',
    programKey: '/usr/bin/cat',
  });
  assert.equal(first?.time, 1_795_315_355_202_000_000n);
  assert.equal(first?.args?.length, 4);
  const exits = events.filter((event) => event.type === 'process-exit');
  assert.deepEqual(
    exits.map((event) => event.process.pid),
    [6725, 6726],
  );
  const failed = calls.filter((call) => call.process?.pid === 6726 && call.returnValue === -2n);
  assert.ok(
    failed.some((call) => call.name === 'openat'),
    'cat of a missing file fails to open it with -ENOENT',
  );
});

test('real auditd fixture: one byte per chunk gives the same events', async () => {
  const bytes = readFileSync(fixture('auditd-cat.log'));
  const whole = await collect(parseAuditLog([bytes]));
  assert.deepEqual(await collect(parseAuditLog(byByte(bytes))), whole);
});

test('i386 records map through the i386 table', async () => {
  const [event] = syscalls(await parse(I386_RECORD));
  assert.deepEqual(event && [event.abi, event.nr, event.name, event.returnValue], [
    'i386',
    5,
    'open',
    -2n,
  ]);
  assert.deepEqual(event?.args, [0xbfd1_9c55n, 0x8000n, 0n, 0xbfd1_a2f0n]);
});

test('hex-encoded exe and comm are decoded; (null) means unknown', async () => {
  // audit_log_untrustedstring hex-encodes values holding a space: "/tmp/my prog".
  const hexExe = Buffer.from('/tmp/my prog').toString('hex').toUpperCase();
  const record = I386_RECORD.replace('exe="/bin/cat"', `exe=${hexExe}`).replace(
    'comm="cat"',
    `comm=${Buffer.from('my prog').toString('hex').toUpperCase()}`,
  );
  const [event] = syscalls(await parse(record));
  assert.deepEqual(event?.process, {
    pid: 3538,
    tgid: 3538,
    comm: 'my prog',
    programKey: '/tmp/my prog',
  });
  const [noExe] = syscalls(await parse(I386_RECORD.replace('exe="/bin/cat"', 'exe=(null)')));
  assert.equal(noExe?.process?.programKey, 'cat');
});

test('node= prefixes and the enriched 0x1d part are accepted', async () => {
  const text = `node=host1 ${I386_RECORD}\u001dARCH=i386 SYSCALL=open AUID="alice" UID="alice"`;
  assert.equal(syscalls(await parse(text)).length, 1);
});

test('an unknown field on a SYSCALL record is an error naming it', async () => {
  const error = await rejection(
    parse(`type=PATH msg=audit(1.000:1): odd=1\n${I386_RECORD} color=blue`),
  );
  assert.ok(isVmsightError(error, 'INVALID_INPUT'));
  assert.equal(
    error.message,
    'Cannot parse "audit.log" line 2 field "color": expected a field of a SYSCALL record, found "color=blue"',
  );
});

test('bad values name the field', async () => {
  const cases: [string, RegExp][] = [
    [
      I386_RECORD.replace('arch=40000003', 'arch=c00000b7'),
      /field "arch": expected c000003e \(x86-64\) or 40000003 \(i386\), found "c00000b7"/,
    ],
    [
      I386_RECORD.replace('syscall=5', 'syscall=open2'),
      /field "syscall": expected a i386 system call, found "open2"/,
    ],
    [I386_RECORD.replace(' pid=3538', ' pid=-1'), /field "pid": expected a number/],
    [I386_RECORD.replace('a1=8000', 'a1=zz'), /field "a1": expected a hex register value/],
    [
      I386_RECORD.replace('exit=-2', 'exit=ENOENT'),
      /field "exit": expected a decimal return value/,
    ],
    [I386_RECORD.replace('msg=audit(1364481363.243:24287):', 'msg=audit(x):'), /field "msg"/],
    [I386_RECORD.replace(' syscall=5', ''), /field "syscall": expected this field to be present/],
    [
      I386_RECORD.replace('exe="/bin/cat"', 'exe="/bin/c'),
      /field "exe": expected a quoted or hex-encoded string/,
    ],
    ['garbage line', /line 1: expected an audit record starting "type=", found "garbage line"/],
  ];
  for (const [text, pattern] of cases) {
    const error = await rejection(parse(text));
    assert.ok(isVmsightError(error, 'INVALID_INPUT'), text);
    assert.match(error.message, pattern);
  }
});

test('ausearch separators are skipped; a huge line hits maxLineBytes', async () => {
  assert.equal((await parse(`----\ntime->Thu Mar 28 15:16:03 2013\n${I386_RECORD}\n`)).length, 1);
  function* endless(): Generator<string> {
    yield 'type=SYSCALL msg=audit(1.000:1): comm="';
    for (;;) yield 'x'.repeat(1000);
  }
  const error = await rejection(collect(parseAuditLog(endless(), { maxLineBytes: 10_000 })));
  assert.ok(isVmsightError(error, 'LIMIT_EXCEEDED'));
});
