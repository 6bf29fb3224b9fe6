import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  SyscallTable,
  writeVmtrace,
  type GuestEvent,
  type GuestProcess,
  type SyscallEvent,
} from '../events/index.js';
import { readModelDirectory } from './model-directory.js';
import { trainModelDirectory } from './model-learning.js';
import { ModelMonitor, type WatchAlert } from './model-monitor.js';
import { replayAlerts } from './trace-scoring.js';

const TABLE = SyscallTable.for('x86-64');
const call = (process: GuestProcess, name: string, path?: string): SyscallEvent => ({
  type: 'syscall',
  vm: 'lab',
  vcpu: 0,
  time: null,
  abi: 'x86-64',
  nr: TABLE.number(name) ?? 0,
  name,
  process,
  ...(path === undefined ? {} : { path }),
});
const port = (at: number, direction: 'read' | 'write' = 'write'): GuestEvent => ({
  type: 'port-io',
  vm: 'lab',
  vcpu: 0,
  time: null,
  port: at,
  direction,
  size: 1,
  value: 0,
});
const cat = (pid: number): GuestProcess => ({ pid, tgid: pid, comm: 'cat', programKey: 'cat' });

/** A cat run: open a file under /tmp, read it, write it out, exit; serial output in between. */
function catRun(pid: number, file: string): GuestEvent[] {
  const process = cat(pid);
  return [
    call(process, 'execve', '/bin/cat'),
    call(process, 'brk'),
    call(process, 'openat', file),
    call(process, 'read'),
    port(0x3f8),
    port(0x3fd, 'read'),
    call(process, 'write'),
    port(0x3f8),
    port(0x3fd, 'read'),
    call(process, 'read'),
    call(process, 'close'),
    call(process, 'exit_group'),
  ];
}

function* normal(firstPid: number, runs: number): Generator<GuestEvent> {
  for (let i = 0; i < runs; i += 1) yield* catRun(firstPid + i, `/tmp/f.${i}`);
}

describe('model directories and ModelMonitor', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmsight-models-'));
    await writeVmtrace(normal(100, 200), join(dir, 'learn.vmtrace.jsonl'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('trains per-program, argument and I/O models from a recording into a directory', async () => {
    const summary = await trainModelDirectory({
      input: join(dir, 'learn.vmtrace.jsonl'),
      output: join(dir, 'models'),
    });
    assert.deepEqual(summary.programs, ['cat']);
    assert.equal(summary.traces, 200);
    assert.equal(summary.ioVocabulary, 2);
    assert.deepEqual((await readdir(join(dir, 'models'))).sort(), [
      'arguments.json',
      'io.model.json',
      'manifest.json',
      'syscalls.model.json',
    ]);
    const models = await readModelDirectory(join(dir, 'models'));
    assert.ok(models.io !== undefined && models.arguments !== undefined);
    assert.deepEqual(models.io.vocabulary.tokens, ['pio:3f8:w:1', 'pio:3fd:r:1']);
  });

  it('stays quiet on normal runs and names the process on a new file and a new port', async () => {
    const models = await readModelDirectory(join(dir, 'models'));
    const monitor = new ModelMonitor(models);
    const quiet = [...normal(1000, 20)].map((event) => monitor.push(event));
    assert.deepEqual(quiet.filter(Boolean), []);
    // Digits are normalised: /tmp/f.999 is the same file as /tmp/f.1.
    assert.equal(monitor.push(call(cat(2000), 'openat', '/tmp/f.999')), undefined);

    assert.equal(monitor.push(call(cat(2001), 'execve', '/bin/cat')), undefined);
    const shadow = monitor.push(call(cat(2001), 'openat', '/etc/shadow'));
    assert.equal(shadow?.reason, 'new-argument');
    assert.equal(shadow?.process?.pid, 2001);
    assert.deepEqual(shadow?.window, ['openat(/etc/shadow)']);

    const dd: GuestProcess = { pid: 2002, tgid: 2002, comm: 'dd', programKey: 'dd' };
    monitor.push(call(dd, 'read'));
    const io = monitor.push(port(0x70, 'read'));
    assert.equal(io?.reason, 'io-new-token');
    assert.equal(io?.process?.comm, 'dd', 'the port read is attributed to the running process');
    assert.equal(io?.window.at(-1), 'pio:70:r:1');
  });

  it('replays a recording to exactly the alerts the monitor raised on it live', async () => {
    const events = [
      ...normal(3000, 5),
      ...catRun(3100, '/etc/shadow'),
      port(0x70, 'read'),
      ...catRun(3101, '/tmp/f.1'),
    ];
    const record = join(dir, 'attack.vmtrace.jsonl');
    await writeVmtrace(events, record);
    const monitor = new ModelMonitor(await readModelDirectory(join(dir, 'models')));
    const live: WatchAlert[] = [];
    for (const event of events) {
      const alert = monitor.push(event);
      if (alert !== undefined) live.push(alert, ...monitor.takeReleased());
    }
    const replayed: WatchAlert[] = [];
    for await (const alert of replayAlerts({ model: join(dir, 'models'), input: record })) {
      replayed.push(alert);
    }
    live.push(...monitor.flush());
    assert.ok(live.length >= 2);
    assert.deepEqual(replayed, live);
  });

  it('holds an alert of a task that has not executed anything yet, and drops it at its execve', async () => {
    const monitor = new ModelMonitor(await readModelDirectory(join(dir, 'models')));
    // A fork child still running its parent's code, already named after the program it will run.
    const child = cat(4000);
    assert.equal(monitor.push(call(child, 'openat', '/etc/motd')), undefined, 'held');
    assert.equal(monitor.push(call(child, 'execve', '/bin/cat')), undefined, 'dropped');
    assert.deepEqual(monitor.flush(), []);
    // Without an execve the held alert comes out at the task's exit.
    const other = cat(4001);
    monitor.push(call(other, 'openat', '/etc/motd'));
    assert.equal(monitor.push(call(other, 'exit_group'))?.reason, 'new-argument');
  });
});
