// No false alarms on the real lab guest under TCG: boot, serial console use, a virtio-blk disk
// workload, a virtio-net workload over user-mode networking (ping, wget and nc to the host through
// the slirp gateway 10.0.2.2) and lspci-style probing of every PCI function's config space. The
// guard sees every port and MMIO access (QEMU trace events) and must return no `block` and raise no
// alert; the accesses no rule knows (what the analysis engine had to look at) are listed.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { writeVmtrace, type GuestEvent } from '../events/index.js';
import { EscapeMatcher, IoKind, RECORDED_BENIGN_STREAM, loadRules } from '../guard/index.js';
import {
  CAN_BUILD_GUEST_PROGRAMS,
  describeAlerts,
  pumpGuard,
  guardedGuestScope,
  virtioDiskArgs,
} from './internal-test/guard-lab-guest.js';

const VM = 'lab-benign';
/**
 * `VMSIGHT_RECORD_GUARD_FIXTURE=1` writes what the guard saw (boot and workload, as the guard
 * checked it) to the fixture `vmsight guard bench --recorded` replays; capped to stay small.
 */
const MAX_RECORDED_EVENTS = 100_000;
/**
 * The fw_cfg data port reads that hand the lab's workload script to the guest byte by byte are the
 * lab's delivery channel, not guest behaviour; the recording leaves them out to stay small.
 */
const isFwCfgData = (event: GuestEvent): boolean =>
  event.type === 'port-io' && event.port === 0x511;
const scope = guardedGuestScope('vmsight-tcg-benign-');
const { dir } = scope;
const http = createHttpServer((_request, response) => response.end('x'.repeat(256 * 1024)));
const tcp = createTcpServer((socket) =>
  socket.on('data', () => undefined).on('end', () => socket.end()),
);
after(() => {
  http.close();
  tcp.close();
});

test(
  'TCG lab guest: boot, serial, virtio-blk and virtio-net workloads and PCI config probing raise no block and no alert',
  { skip: CAN_BUILD_GUEST_PROGRAMS ? false : 'needs qemu-system-x86_64', timeout: 420_000 },
  async () => {
    http.listen(0, '127.0.0.1');
    tcp.listen(0, '127.0.0.1');
    await Promise.all([once(http, 'listening'), once(tcp, 'listening')]);
    const httpPort = (http.address() as AddressInfo).port;
    const tcpPort = (tcp.address() as AddressInfo).port;
    const workload = [
      'i=0; while [ $i -lt 100 ]; do echo "serial line $i of the benign workload"; i=$((i+1)); done',
      'dd if=/dev/urandom of=/dev/vda bs=4096 count=512 oflag=direct 2>/dev/null',
      'dd if=/dev/vda of=/dev/null bs=4096 count=512 iflag=direct 2>/dev/null',
      'sync',
      'ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2',
      'ping -c 3 10.0.2.2 && echo PING-OK',
      `wget -q -O /tmp/page http://10.0.2.2:${httpPort}/ && echo "WGET-OK $(wc -c < /tmp/page)"`,
      `head -c 65536 /dev/zero | nc 10.0.2.2 ${tcpPort} && echo NC-OK`,
      // lspci-style probing: every function's whole config space, as lspci -xxxx reads it.
      'for f in /sys/bus/pci/devices/*/config; do od -An -tx1 "$f" > /dev/null; done && echo PROBE-OK',
      'echo BENIGN-DONE',
      'sleep 600',
    ].join('\n');
    const guest = await scope.start({
      name: VM,
      workload,
      extraArgs: [
        ...virtioDiskArgs(dir, 16),
        '-netdev',
        'user,id=n0',
        '-device',
        'virtio-net-pci,netdev=n0,ioeventfd=off,romfile=',
      ],
    });
    const { vm: running, qmp, layout, guard, alerts, feed } = guest;
    const rules = await loadRules();
    // What the engine had to look at: accesses in windows no rule decided, that no benign rule knows.
    const known = new EscapeMatcher(rules, { bindings: layout.bindings });
    const unknownAccesses = new Map<string, number>();
    const recording: GuestEvent[] = [];
    const verdictCounts = { block: 0, alert: 0, pass: 0, unknown: 0 };
    let benignDone = false;
    try {
      await pumpGuard({
        feed,
        guard,
        vm: VM,
        timeoutMs: 300_000,
        onVerdicts: (verdicts, window) => {
          for (const event of window)
            if (recording.length < MAX_RECORDED_EVENTS && !isFwCfgData(event))
              recording.push(event);
          for (const verdict of verdicts) {
            verdictCounts[verdict.verdict] += 1;
            if (verdict.fate !== 'engine' && verdict.fate !== 'shed') continue;
            for (const event of window) {
              const port = event.type === 'port-io';
              const address = port
                ? event.port
                : event.type === 'mmio'
                  ? Number(event.address)
                  : -1;
              const write =
                (event.type === 'port-io' || event.type === 'mmio') && event.direction === 'write';
              const kind = port
                ? write
                  ? IoKind.PORT_WRITE
                  : IoKind.PORT_READ
                : write
                  ? IoKind.MMIO_WRITE
                  : IoKind.MMIO_READ;
              if (known.isBenignKnown(kind, address)) continue;
              const key = `${port ? 'port' : 'mmio'} 0x${address.toString(16)}`;
              unknownAccesses.set(key, (unknownAccesses.get(key) ?? 0) + 1);
            }
          }
        },
        done: async () =>
          (benignDone ||= await running.waitForSerial(/BENIGN-DONE/, 1).then(
            () => true,
            () => false,
          )),
      });
      const serial = readFileSync(running.serialPath, 'utf8');
      assert.ok(benignDone, `the workload finished; serial: ${serial.slice(-1500)}`);
      for (const marker of ['PING-OK', 'WGET-OK 262144', 'NC-OK', 'PROBE-OK'])
        assert.ok(serial.includes(marker), `${marker} missing; serial: ${serial.slice(-1500)}`);
      assert.equal(verdictCounts.block, 0, 'no block verdict');
      assert.deepEqual(describeAlerts(alerts), [], 'no alert');
      assert.equal((await qmp.execute('query-status')).status, 'running');
      if (process.env['VMSIGHT_RECORD_GUARD_FIXTURE'] === '1') {
        const written = await writeVmtrace(recording, RECORDED_BENIGN_STREAM, {
          compressionLevel: 19,
        });
        console.log(`# recorded ${written} events to ${RECORDED_BENIGN_STREAM}`);
      }
      console.log(
        `# TCG benign: ${feed.events} I/O events, verdicts ${JSON.stringify(verdictCounts)}, counters ${JSON.stringify(guard.counters)}; unknown to the rules (engine saw): ${JSON.stringify([...unknownAccesses].sort((a, b) => b[1] - a[1]).slice(0, 20))}`,
      );
    } finally {
      await guest.close();
    }
  },
);
