// /proc/<pid>/mem of a QEMU whose RAM is anonymous memory (no memory-backend-file): the mapping is
// found from /proc/<pid>/maps by size alone, and reads must equal HMP `xp`. A bare QEMU running
// SeaBIOS is enough (no guest kernel): the firmware fills low RAM (IVT, BDA, its own shadow copy).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QmpClient } from '../connectors/index.js';
import { isVmsightError } from '../core/index.js';
import { xp } from './_qemu-ground-truth.js';
import { openProcMemLayer } from './proc-mem-layer.js';

const RAM = 64n << 20n;

void describe('openProcMemLayer on a QEMU with anonymous RAM', { timeout: 60_000 }, () => {
  let dir = '';
  let qemu: ChildProcess | undefined;
  let qmp: QmpClient | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmsight-procmem-'));
    const socket = join(dir, 'qmp.sock');
    qemu = spawn(
      'qemu-system-x86_64',
      [
        '-accel',
        'tcg',
        '-m',
        '64M',
        '-display',
        'none',
        '-nodefaults',
        '-no-reboot',
        '-qmp',
        `unix:${socket},server=on,wait=off`,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100 && !existsSync(socket); i += 1) await sleep(50);
    await sleep(1000); // let SeaBIOS write low memory
    qmp = await QmpClient.connect(socket);
    await qmp.execute('stop');
  });

  after(async () => {
    await qmp?.close().catch(() => undefined);
    qemu?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  void it('finds the RAM mapping by size and reads what HMP xp shows', async () => {
    const layer = openProcMemLayer({ pid: qemu?.pid ?? 0, ramSize: RAM });
    try {
      assert.deepEqual(
        layer.ranges.map((r) => [r.start, r.length]),
        [[0n, RAM]],
      );
      let nonZero = 0;
      for (const pa of [
        0x0n,
        0x400n,
        0x7000n,
        0x9fc00n,
        0xe0000n,
        0xf0000n,
        0xffff0n,
        0x100000n,
        RAM - 0x40n,
      ]) {
        const bytes = layer.read(pa, 64);
        assert.deepEqual(bytes, await xp(qmp!, pa, 8), `physical 0x${pa.toString(16)}`);
        if (bytes.some((b) => b !== 0)) nonZero += 1;
      }
      assert.ok(nonZero >= 3, 'firmware wrote low memory');
      assert.throws(
        () => layer.read(RAM - 8n, 16),
        (e: unknown) => isVmsightError(e, 'INVALID_ADDRESS'),
      );
    } finally {
      layer.close();
    }
  });

  void it('refuses a RAM size that matches no mapping', () => {
    assert.throws(
      () => openProcMemLayer({ pid: qemu?.pid ?? 0, ramSize: RAM + 4096n }),
      (e: unknown) => isVmsightError(e, 'NOT_FOUND'),
    );
    assert.throws(
      () => openProcMemLayer({ pid: 0x7ffffff0, ramSize: RAM }),
      (e: unknown) => isVmsightError(e, 'NOT_FOUND'),
    );
  });
});
