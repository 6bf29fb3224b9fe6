// Real trigger on the real lab guest under TCG: a static program built on the host now, injected
// with fw_cfg, writes the VENOM pattern to the floppy data port through ioperm/outb. QEMU's own
// trace events (memory_region_ops_read/write to a -D log with timestamps, lab-notes.md §5) are the
// sensor; the guard blocks: VM paused over QMP, alert with CVE-2015-3456. Everything before it —
// SeaBIOS, the Linux boot, serial output and a virtio disk workload — must raise no alert.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  CAN_BUILD_GUEST_PROGRAMS,
  buildGuestPrograms,
  describeAlerts,
  pumpGuard,
  guardedGuestScope,
  virtioDiskArgs,
  VENOM_PROGRAM,
} from './internal-test/guard-lab-guest.js';

const scope = guardedGuestScope('vmsight-tcg-venom-');
const { dir } = scope;

test(
  'TCG lab guest: boot, serial, virtio disk and PCI config probing raise nothing; the VENOM program is blocked with CVE-2015-3456',
  {
    skip: CAN_BUILD_GUEST_PROGRAMS ? false : 'needs qemu-system-x86_64 and gcc',
    timeout: 240_000,
  },
  async () => {
    const programs = buildGuestPrograms(dir, [VENOM_PROGRAM]);
    const workload = [
      ...programs.install,
      'i=0; while [ $i -lt 50 ]; do echo "serial line $i"; i=$((i+1)); done',
      'dd if=/dev/zero of=/dev/vda bs=4096 count=256 oflag=direct 2>/dev/null',
      'dd if=/dev/vda of=/dev/null bs=4096 count=256 iflag=direct 2>/dev/null',
      // lspci-style probing: every device's config space through sysfs (PCI config cycles).
      'for f in /sys/bus/pci/devices/*/config; do od -An -tx1 "$f" > /dev/null; done',
      'echo BENIGN-DONE',
      'sleep 2',
      '/tmp/venom',
      'sleep 60',
    ].join('\n');
    const guest = await scope.start({
      name: 'lab-tcg',
      workload,
      extraArgs: [...programs.qemuArgs, ...virtioDiskArgs(dir, 8)],
    });
    const { vm: running, qmp, guard, alerts, feed } = guest;
    let benignDone = false;
    let blocked = false;
    try {
      await pumpGuard({
        feed,
        guard,
        vm: 'lab-tcg',
        timeoutMs: 120_000,
        onVerdicts: (verdicts) => {
          if (verdicts.some((v) => v.verdict === 'block')) blocked = true;
        },
        done: async () => {
          benignDone ||= await running.waitForSerial(/BENIGN-DONE/, 1).then(
            () => true,
            () => false,
          );
          return blocked;
        },
      });
      assert.ok(benignDone, 'the benign phase finished');
      // Alerts may be raised after BENIGN-DONE was noticed only because the log is read with a lag,
      // so the false-alarm check is by rule: nothing but the VENOM rules may have fired.
      const falseAlarms = alerts.filter((alert) => !alert.ruleId.startsWith('venom-fdc-'));
      assert.deepEqual(
        describeAlerts(falseAlarms),
        [],
        'false alarms during boot, serial and disk workload',
      );
      const block = alerts.find((alert) => alert.action === 'block');
      assert.ok(
        block !== undefined,
        `no block after ${feed.events} I/O events; busiest ${JSON.stringify(feed.busiest())}; serial: ${readFileSync(running.serialPath, 'utf8').slice(-600)}`,
      );
      assert.equal(block.ruleId, 'venom-fdc-fifo-overrun');
      assert.ok(block.cves.includes('CVE-2015-3456'));
      assert.equal(block.vm, 'lab-tcg');
      assert.ok(block.paused);
      assert.equal((await qmp.execute('query-status')).status, 'paused');
      console.log(
        `# TCG VENOM: ${feed.events} I/O events scanned, blocked; trigger->stopped ${block.triggerToStoppedMs?.toFixed(1)} ms; counters ${JSON.stringify(guard.counters)}; busiest ${JSON.stringify(feed.busiest(6))}`,
      );
    } finally {
      await guest.close();
    }
  },
);
