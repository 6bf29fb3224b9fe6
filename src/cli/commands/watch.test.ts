import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labSensorQemuArgs } from '../../app/index.js';
import { startLabVm, type LabVm } from '../../lab/index.js';
import { runVmsight } from '../internal-test/run-cli.js';

describe('vmsight watch', { timeout: 240_000 }, () => {
  let vm: LabVm | undefined;
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmsight-watch-cli-'));
    vm = await startLabVm({
      name: `watchcli-${process.pid}`,
      workload: 'while :; do ls / > /dev/null; cat /proc/uptime > /dev/null; sleep 0.1; done',
      extraArgs: await labSensorQemuArgs(),
    });
  });

  after(async () => {
    await vm?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints JSON stats lines for a duration and records attributed syscalls', async () => {
    assert.ok(vm !== undefined);
    const record = join(dir, 'watch.vmtrace.jsonl');
    const result = runVmsight(['watch', '--vm', vm.name, '--duration', '3', '--record', record], {
      timeoutMs: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            type: string;
            final?: boolean;
            sensor?: { delivered: number; dropped: number };
          },
      );
    const final = lines.at(-1);
    assert.equal(final?.type, 'stats');
    assert.equal(final?.final, true);
    assert.equal(final?.sensor?.dropped, 0);
    const events = (await readFile(record, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => JSON.parse(line) as { type: string; process?: { programKey: string } });
    const programs = new Set(
      events.filter((event) => event.type === 'syscall').map((event) => event.process?.programKey),
    );
    assert.ok(
      programs.has('ls') && programs.has('cat'),
      `programs seen: ${[...programs].join(', ')}`,
    );
    assert.equal(events.length, final?.sensor?.delivered);
  });

  it('refuses an unknown VM with the not-found exit status', () => {
    const unknown = runVmsight(['watch', '--vm', 'no-such-vm-here', '--duration', '1']);
    assert.equal(unknown.status, 4);
    assert.match(unknown.stderr, /Cannot find VM "no-such-vm-here"/);
  });
});
