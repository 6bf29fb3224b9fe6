import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  createTime?: string;
}

void describe('vmsight ps and vmsight symbols build on the lab guest', { timeout: 600_000 }, () => {
  let vm: LabVm | undefined;
  let dir = '';
  let dump = '';
  let vmlinux = '';
  /** The guest's /proc/stat btime (s since the epoch). */
  let btime = Number.NaN;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-ps-cli-'));
    vmlinux = (await ensureLabBuilt()).vmlinux;
    vm = await startLabVm({
      workload:
        "sh -c 'sleep 1000; true' cli-test &\nsleep 1\n" +
        'while read -r key value rest; do [ "$key" = btime ] && echo "BTIME|$value"; done < /proc/stat\n' +
        'echo STARTED\nwait\n',
    });
    await vm.waitForSerial(/^STARTED/m);
    btime = Number(/^BTIME\|(\d+)/m.exec(readFileSync(vm.serialPath, 'utf8'))?.[1]);
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
      // The idle task was created at boot: its creation time is the guest's btime.
      const idle = Date.parse(parsed.rows.find((r) => r.pid === 0)?.createTime ?? '') / 1000;
      assert.ok(Math.abs(idle - btime) <= 1.5, `idle task created ${idle}, btime ${btime}`);
      assert.ok(parsed.rows.every((r) => typeof r.createTime === 'string'));
    }
  });

  void it('prints a table and a tree', () => {
    const table = vmsight('ps', '--dump', dump);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^PID +PPID +TGID +UID +STATE +START +CREATED +COMM +CR3 +TASK$/m);
    assert.match(
      table.stdout,
      /^ +0 +0 +0 +0 +R +0\.00 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z +swapper\/0 +0x0 +0xffffffff82a1aa40$/m,
    );
    const tree = vmsight('ps', '--dump', dump, '--tree');
    assert.equal(tree.status, 0, tree.stderr);
    assert.match(tree.stdout, /^ +1 +0 +1 +init$/m);
  });

  void it('shows maps, open files and sockets of one process, as JSON and as a table', () => {
    const maps = vmsight('ps', '--dump', dump, '--plugin', 'maps', '--pid', '1', '--json');
    assert.equal(maps.status, 0, maps.stderr);
    const regions = JSON.parse(maps.stdout) as {
      rows: { pid: number; flags: string; path: string }[];
      warnings: unknown[];
    };
    assert.deepEqual(regions.warnings, []);
    assert.ok(regions.rows.length > 0 && regions.rows.every((r) => r.pid === 1), 'only pid 1');
    assert.ok(
      regions.rows.some((r) => r.path === '/bin/busybox' && r.flags === 'r-xp'),
      'text',
    );
    assert.ok(
      regions.rows.some((r) => r.path === '[stack]'),
      'stack',
    );
    const lsof = vmsight('ps', '--dump', dump, '--plugin', 'lsof', '--pid', '1');
    assert.equal(lsof.status, 0, lsof.stderr);
    assert.match(lsof.stdout, /^PID +COMM +FD +INODE +PATH +FILE$/m);
    assert.match(lsof.stdout, /^ +1 +init +0 +\d+ +\/dev\/console +0x[0-9a-f]+$/m);
    const sockets = vmsight('ps', '--vm', vm?.name ?? '', '--pause', '--plugin', 'sockstat');
    assert.equal(sockets.status, 0, sockets.stderr);
    assert.match(sockets.stdout, /^PID +COMM +FD +INODE +FAMILY +PROTO +TYPE +LOCAL +LPORT/m);
    for (const plugin of ['maps', 'lsof', 'sockstat']) {
      const all = vmsight('ps', '--dump', dump, '--plugin', plugin, '--json');
      assert.equal(all.status, 0, all.stderr);
      assert.deepEqual((JSON.parse(all.stdout) as { warnings: unknown[] }).warnings, [], plugin);
    }
    const bad = vmsight('ps', '--dump', dump, '--plugin', 'maps', '--pid', 'x');
    assert.equal(bad.status, 2);
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
