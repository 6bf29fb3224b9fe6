// Real trigger under real KVM (lab-notes.md §8): a boot sector makes the VENOM-shaped writes to the
// floppy data port, the host's kvm:kvm_pio (a tracefs instance of our own) sees them, the guard
// blocks: VM paused over QMP, alert naming CVE-2015-3456. SeaBIOS's own FDC traffic before it is
// the benign traffic that must not block.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { QmpClient } from '../connectors/index.js';
import type { GuestEvent } from '../events/index.js';
import { EscapeGuard, loadRules, type GuardAlert } from '../guard/index.js';
import { KvmPioTrace } from '../sensors/index.js';

const canRun =
  existsSync('/dev/kvm') && process.getuid?.() === 0 && existsSync('/usr/bin/qemu-system-x86_64');

/** 16-bit real mode: 1,000 × `out 0x3f5, 0x42`, then 'K' to COM1, then hlt forever. */
function venomBootSector(): Buffer {
  const code = [
    0xb9, 0xe8, 0x03, 0xba, 0xf5, 0x03, 0xb0, 0x42, 0xee, 0xe2, 0xfd, 0xba, 0xf8, 0x03, 0xb0, 0x4b,
    0xee, 0xf4, 0xeb, 0xfd,
  ];
  const image = Buffer.alloc(1_474_560);
  Buffer.from(code).copy(image);
  image[510] = 0x55;
  image[511] = 0xaa;
  return image;
}

let qemu: ChildProcess | undefined;
let trace: KvmPioTrace | undefined;
let qmp: QmpClient | undefined;
const dir = mkdtempSync(join(tmpdir(), 'vmsight-kvm-venom-'));
after(async () => {
  await trace?.close().catch(() => undefined);
  await qmp?.close().catch(() => undefined);
  if (qemu?.pid !== undefined && qemu.exitCode === null) qemu.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test(
  'KVM: a VENOM-shaped boot sector is blocked: VM paused over QMP, alert with CVE-2015-3456',
  { skip: canRun ? false : 'needs root, /dev/kvm and qemu-system-x86_64', timeout: 240_000 },
  async () => {
    const image = join(dir, 'bs.img');
    writeFileSync(image, venomBootSector());
    const socket = join(dir, 'qmp.sock');
    qemu = spawn(
      'qemu-system-x86_64',
      [
        '-accel',
        'kvm',
        '-m',
        '16M',
        '-drive',
        `file=${image},format=raw,if=floppy`,
        '-boot',
        'a',
        '-display',
        'none',
        '-serial',
        `file:${join(dir, 'serial.txt')}`,
        '-no-reboot',
        '-S',
        '-qmp',
        `unix:${socket},server=on,wait=off`,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100 && !existsSync(socket); i += 1)
      await new Promise((r) => setTimeout(r, 50));
    qmp = await QmpClient.connect(socket);
    const client = qmp;
    trace = await KvmPioTrace.open({
      name: `vmsight-guard-${process.pid}`,
      vm: 'kvm-venom',
      qemuPid: qemu.pid as number,
    });

    const alerts: GuardAlert[] = [];
    const guard = EscapeGuard.start({
      rules: await loadRules(),
      engine: { analyse: () => Promise.resolve({ anomalous: false, score: 0 }) },
      controller: { pause: async () => void (await client.execute('stop')) },
      onAlert: (alert) => alerts.push(alert),
    });
    try {
      await client.execute('cont');
      let window: GuestEvent[] = [];
      let fdcWrites = 0;
      let seabiosFdcAccesses = 0;
      // SeaBIOS waits on the floppy controller under kvm_pvm's emulator: 2 s to over 40 s to reach
      // the boot sector on a loaded 2-core host, so the deadline is generous.
      const deadline = Date.now() + 180_000;
      for await (const event of trace.events()) {
        if (event.port >= 0x3f0 && event.port <= 0x3f7) {
          if (event.direction === 'write' && event.port === 0x3f5 && event.value === 0x42)
            fdcWrites += 1;
          else seabiosFdcAccesses += 1;
        }
        window.push(event);
        if (window.length >= 64) {
          const verdicts = await guard.scan([{ vm: 'kvm-venom', events: window }]);
          window = [];
          if (verdicts.some((v) => v.verdict === 'block')) break;
        }
        if (Date.now() > deadline) break;
      }
      const block = alerts.find((alert) => alert.action === 'block');
      assert.ok(
        block !== undefined,
        `no block; ${fdcWrites} VENOM writes seen, alerts ${JSON.stringify(alerts.map((a) => a.ruleId))}`,
      );
      assert.ok(block.cves.includes('CVE-2015-3456'));
      assert.equal(block.ruleId, 'venom-fdc-fifo-overrun');
      assert.equal(block.vm, 'kvm-venom');
      assert.ok(block.events.some((e) => e.address === 0x3f5 && e.direction === 'write'));
      assert.ok(block.paused);
      const status = await client.execute('query-status');
      assert.equal((status as { status: string }).status, 'paused');
      assert.ok(seabiosFdcAccesses > 0, 'SeaBIOS FDC traffic was seen and did not block');
      assert.ok(
        !alerts.some(
          (a) => a.action === 'block' && a !== block && a.ruleId !== 'venom-fdc-fifo-overrun',
        ),
      );
      console.log(
        `# KVM VENOM: ${fdcWrites} data-port writes, ${seabiosFdcAccesses} SeaBIOS FDC accesses before; trigger->stopped ${block.triggerToStoppedMs?.toFixed(2)} ms`,
      );
    } finally {
      await guard.close();
    }
  },
);
