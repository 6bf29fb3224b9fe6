import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLabBuilt, startLabVm, type LabVm } from '../../lab/index.js';
import { runVmsight, type CliResult } from '../internal-test/run-cli.js';

const vmsight = (...args: string[]): CliResult => runVmsight(args);

interface JsonRow {
  pid: number;
  ppid: number;
  comm: string;
  args?: string;
  depth?: number;
}

void describe('vmsight ps and vmsight symbols build on the lab guest', { timeout: 600_000 }, () => {
  let vm: LabVm | undefined;
  let dir = '';
  let dump = '';
  let vmlinux = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-ps-cli-'));
    vmlinux = (await ensureLabBuilt()).vmlinux;
    vm = await startLabVm({
      workload: "sh -c 'sleep 1000; true' cli-test &\nsleep 1\necho STARTED\nwait\n",
    });
    await vm.waitForSerial(/^STARTED/m);
    const qmp = await vm.qmp();
    dump = join(dir, 'guest.elf');
    await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${dump}` });
    // A QMP socket serves one client: free it for the CLI's own connection (--pause).
    await qmp.close();
  });
  after(async () => {
    await vm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('lists processes with arguments from a dump and from the live VM, as JSON', () => {
    for (const source of [
      ['--dump', dump, '--no-cache'],
      ['--dump', dump],
      ['--vm', vm?.name ?? '', '--pause'],
    ]) {
      const result = vmsight('ps', ...source, '--plugin', 'psaux', '--json');
      assert.equal(result.status, 0, result.stderr);
      const parsed = JSON.parse(result.stdout) as {
        rows: JsonRow[];
        warnings: unknown[];
        kernel: string;
      };
      assert.match(parsed.kernel, /^Linux version 6\.1\.0-56-amd64/);
      assert.deepEqual(parsed.warnings, []);
      assert.ok(
        parsed.rows.some((r) => r.comm === 'sh' && r.args === 'sh -c sleep 1000; true cli-test'),
      );
      assert.ok(parsed.rows.some((r) => r.pid === 1 && r.comm === 'init'));
    }
  });

  void it('prints a table and a tree', () => {
    const table = vmsight('ps', '--dump', dump);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^PID +PPID +TGID +UID +STATE +START +COMM +CR3 +TASK$/m);
    assert.match(table.stdout, /^ +0 +0 +0 +0 +R .* swapper\/0 +0x0 +0xffffffff82a1aa40$/m);
    const tree = vmsight('ps', '--dump', dump, '--tree');
    assert.equal(tree.status, 0, tree.stderr);
    assert.match(tree.stdout, /^ +1 +0 +1 +init$/m);
  });

  void it('builds an ISF that ps accepts with --isf', () => {
    const out = join(dir, 'lab.json.xz');
    const built = vmsight(
      'symbols',
      'build',
      '--dump',
      dump,
      '--kernel',
      vmlinux,
      '-o',
      out,
      '--json',
    );
    assert.equal(built.status, 0, built.stderr);
    const summary = JSON.parse(built.stdout) as { symbols: number; userTypes: number };
    assert.ok(summary.symbols > 80_000 && summary.userTypes > 9_000);
    const ps = vmsight('ps', '--dump', dump, '--isf', out, '--json');
    assert.equal(ps.status, 0, ps.stderr);
    assert.ok((JSON.parse(ps.stdout) as { rows: JsonRow[] }).rows.length > 40);
  });

  void it('fails with a usage error without --vm or --dump, and with a wrong kernel', () => {
    const none = vmsight('ps');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /Give exactly one of --vm and --dump/);
    const wrong = vmsight('ps', '--dump', dump, '--kernel', process.execPath);
    assert.notEqual(wrong.status, 0);
  });
});
