import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLabVm, type LabVm } from '../../lab/index.js';
import { runVmsight, type CliResult } from '../internal-test/run-cli.js';
import { formatHexdump } from './mem.js';

const INIT_TASK_COMM = 0xffffffff82a1aa40n + 2976n; // nokaslr 6.1.0-56-amd64 (lab-notes §6)

const vmsight = (...args: string[]): CliResult => runVmsight(args);

void describe('formatHexdump', () => {
  void it('prints 16 bytes a line with the address and printable characters', () => {
    const bytes = Buffer.from('swapper/0\0\0\0\0\0\0\0ab', 'latin1');
    assert.equal(
      formatHexdump(bytes, 0xffffffff82a1b5e0n),
      [
        'ffffffff82a1b5e0  73 77 61 70 70 65 72 2f  30 00 00 00 00 00 00 00  |swapper/0.......|',
        'ffffffff82a1b5f0  61 62                                             |ab|',
      ].join('\n'),
    );
  });
});

void describe('vmsight mem read on the lab guest', { timeout: 300_000 }, () => {
  let vm: LabVm | undefined;
  let dir = '';
  let dump = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-mem-cli-'));
    vm = await startLabVm({});
    const qmp = await vm.qmp();
    dump = join(dir, 'guest.elf');
    await qmp.execute(
      'dump-guest-memory',
      { paging: false, protocol: `file:${dump}` },
      { timeoutMs: 120_000 },
    );
    // A QMP socket serves one client: free it for the CLI's own connection (--vm --virt reads CR3).
    await qmp.close();
  });
  after(async () => {
    await vm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('reads a kernel virtual address from the dump and from the live VM', () => {
    for (const source of [
      ['--dump', dump],
      ['--vm', vm?.name ?? ''],
    ]) {
      const result = vmsight(
        'mem',
        'read',
        ...source,
        '--virt',
        `0x${INIT_TASK_COMM.toString(16)}`,
        '--len',
        '16',
      );
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /-> physical 0x2a1b5e0 /);
      assert.match(result.stdout, /^ffffffff82a1b5e0 {2}73 77 61 70 70 65 72 2f {2}30 00/m);
    }
  });

  void it('writes raw bytes with -o and reads physical addresses', () => {
    const out = join(dir, 'comm.bin');
    const result = vmsight(
      'mem',
      'read',
      '--dump',
      dump,
      '--phys',
      '0x2a1b5e0',
      '--len',
      '9',
      '-o',
      out,
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(out, 'latin1'), 'swapper/0');
  });

  void it('exits 9 (INVALID_ADDRESS) naming the address for unmapped and missing memory', () => {
    const unmapped = vmsight(
      'mem',
      'read',
      '--dump',
      dump,
      '--virt',
      '0x1000',
      '--cr3',
      '0x2a10000',
    );
    assert.equal(unmapped.status, 9);
    assert.match(unmapped.stderr, /Cannot translate address 0x1000: PML4 entry 0x0 is not present/);
    const hole = vmsight('mem', 'read', '--dump', dump, '--phys', '0x7ffff0000', '--len', '16');
    assert.equal(hole.status, 9);
    assert.match(hole.stderr, /Cannot read physical address 0x7ffff0000/);
    const filled = vmsight(
      'mem',
      'read',
      '--dump',
      dump,
      '--phys',
      '0x7ffff0000',
      '--len',
      '16',
      '--fill-holes',
      '--json',
    );
    assert.equal(filled.status, 0, filled.stderr);
    assert.equal((JSON.parse(filled.stdout) as { hex: string }).hex, '00'.repeat(16));
    assert.equal(vmsight('mem', 'read', '--dump', dump).status, 2);
  });
});
