// Real trigger on the real lab guest under TCG: a static program built on the host now, injected
// with fw_cfg, writes the VENOM pattern to the floppy data port through ioperm/outb. QEMU's own
// trace events (memory_region_ops_read/write to a -D log with timestamps, lab-notes.md §5) are the
// sensor; the guard blocks: VM paused over QMP, alert with CVE-2015-3456. Everything before it —
// SeaBIOS, the Linux boot, serial output and a virtio disk workload — must raise no alert.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  readFileSync,
  closeSync,
  rmSync,
  writeFileSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { GuestEvent } from '../events/index.js';
import { EscapeGuard, loadRules, type GuardAlert } from '../guard/index.js';
import { startLabVm, type LabVm } from '../lab/index.js';
import { IoTraceDecoder, TcgLogParser } from '../sensors/index.js';

const canRun = existsSync('/usr/bin/qemu-system-x86_64') && existsSync('/usr/bin/gcc');

// No libc: a glibc -static binary is 800 KB, and the guest's qemu_fw_cfg driver reads it byte by
// byte through port 0x511 many times over (74 M trace lines); this one is 9 KB.
const VENOM_C = `
/* VENOM-shaped writes: FD_CMD_DRIVE_SPECIFICATION_COMMAND (0x8e), then 1,000 bytes to 0x3f5. */
static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
static void outb(unsigned char v, unsigned short port) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
void _start(void) {
  static const char done[] = "VENOM-WRITES-DONE\\n";
  if (sys3(173, 0x3f0, 8, 1) != 0) sys3(60, 1, 0, 0); /* ioperm */
  outb(0x8e, 0x3f5);
  for (int i = 0; i < 1000; i++) outb(0x42, 0x3f5);
  sys3(1, 1, (long)done, sizeof done - 1);
  sys3(60, 0, 0, 0);
}
`;

const dir = mkdtempSync(join(tmpdir(), 'vmsight-tcg-venom-'));
let vm: LabVm | undefined;
after(async () => {
  await vm?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  'TCG lab guest: boot, serial, virtio disk and PCI config probing raise nothing; the VENOM program is blocked with CVE-2015-3456',
  {
    skip: canRun ? false : 'needs qemu-system-x86_64 and gcc',
    timeout: 240_000,
  },
  async () => {
    writeFileSync(join(dir, 'venom.c'), VENOM_C);
    execFileSync('gcc', [
      '-static',
      '-nostdlib',
      '-O1',
      '-o',
      join(dir, 'venom'),
      join(dir, 'venom.c'),
    ]);
    const disk = join(dir, 'disk.raw');
    writeFileSync(disk, Buffer.alloc(8 * 1024 * 1024));
    const log = join(dir, 'qemu-trace.log');
    const workload = [
      'cat /sys/firmware/qemu_fw_cfg/by_name/opt/venom/raw > /tmp/venom && chmod +x /tmp/venom',
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
    vm = await startLabVm({
      workload,
      extraArgs: [
        '-fw_cfg',
        `name=opt/venom,file=${join(dir, 'venom')}`,
        '-drive',
        `file=${disk},if=none,id=d0,format=raw`,
        '-device',
        'virtio-blk-pci,drive=d0,ioeventfd=off',
        '-trace',
        'enable=memory_region_ops_read',
        '-trace',
        'enable=memory_region_ops_write',
        '-D',
        log,
        '-msg',
        'timestamp=on',
      ],
    });
    const qmp = await vm.qmp();
    const alerts: GuardAlert[] = [];
    const guard = EscapeGuard.start({
      rules: await loadRules(),
      engine: { analyse: () => Promise.resolve({ anomalous: false, score: 0 }) },
      controller: { pause: async () => void (await qmp.execute('stop')) },
      onAlert: (alert) => alerts.push(alert),
    });
    const parser = new TcgLogParser();
    const decoder = new IoTraceDecoder({ vm: 'lab-tcg' });
    let offset = 0;
    let rest = '';
    let ioEvents = 0;
    const byAddress = new Map<string, number>();
    let benignDone = false;
    try {
      const deadline = Date.now() + 120_000;
      let blocked = false;
      while (!blocked && Date.now() < deadline) {
        // The log is read by offset: QEMU keeps its own file offset (lab-notes.md pitfalls).
        const size = existsSync(log) ? statSync(log).size : 0;
        if (size > offset) {
          const fd = openSync(log, 'r');
          const buffer = Buffer.alloc(Math.min(size - offset, 8 * 1024 * 1024));
          const read = readSync(fd, buffer, 0, buffer.length, offset);
          closeSync(fd);
          offset += read;
          const lines = (rest + buffer.subarray(0, read).toString('latin1')).split('\n');
          rest = lines.pop() ?? '';
          const events: GuestEvent[] = [];
          for (const line of lines) {
            for (const record of parser.push(line)) {
              if (record.kind !== 'trace') continue;
              const event = decoder.decode(record);
              if (event === undefined || (event.type !== 'port-io' && event.type !== 'mmio'))
                continue;
              events.push(event);
              const key =
                event.type === 'port-io'
                  ? `port 0x${event.port.toString(16)}`
                  : `mmio 0x${event.address.toString(16)}`;
              byAddress.set(key, (byAddress.get(key) ?? 0) + 1);
            }
          }
          ioEvents += events.length;
          for (let i = 0; i < events.length; i += 256) {
            const verdicts = await guard.scan([
              { vm: 'lab-tcg', events: events.slice(i, i + 256) },
            ]);
            if (verdicts.some((v) => v.verdict === 'block')) blocked = true;
          }
        }
        if (
          !benignDone &&
          (await vm.waitForSerial(/BENIGN-DONE/, 1).then(
            () => true,
            () => false,
          ))
        ) {
          benignDone = true;
        }
        if (!blocked) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(benignDone, 'the benign phase finished');
      // Alerts may be raised after BENIGN-DONE was noticed only because the log is read with a lag,
      // so the false-alarm check is by rule: nothing but the VENOM rules may have fired.
      const falseAlarms = alerts.filter((alert) => !alert.ruleId.startsWith('venom-fdc-'));
      assert.deepEqual(
        falseAlarms.map(
          (alert) =>
            `${alert.ruleId} ${alert.events.map((e) => `${e.direction} 0x${e.address.toString(16)}=0x${e.value.toString(16)}`).join(' ')}`,
        ),
        [],
        'false alarms during boot, serial and disk workload',
      );
      const block = alerts.find((alert) => alert.action === 'block');
      assert.ok(
        block !== undefined,
        `no block after ${ioEvents} I/O events; busiest ${JSON.stringify([...byAddress].sort((a, b) => b[1] - a[1]).slice(0, 8))}; serial: ${readFileSync(vm.serialPath, 'utf8').slice(-600)}`,
      );
      assert.equal(block.ruleId, 'venom-fdc-fifo-overrun');
      assert.ok(block.cves.includes('CVE-2015-3456'));
      assert.equal(block.vm, 'lab-tcg');
      assert.ok(block.paused);
      assert.equal((await qmp.execute('query-status')).status, 'paused');
      console.log(
        `# TCG VENOM: ${ioEvents} I/O events scanned, blocked; trigger->stopped ${block.triggerToStoppedMs?.toFixed(1)} ms; counters ${JSON.stringify(guard.counters)}; busiest ${JSON.stringify([...byAddress].sort((a, b) => b[1] - a[1]).slice(0, 6))}`,
      );
    } finally {
      await guard.close();
    }
  },
);
