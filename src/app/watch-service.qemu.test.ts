import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GATE_FUNCTION, startGatedLabVm, type GatedLabVm } from './_gated-lab-vm.js';
import { trainModel } from './model-training.js';
import type { SyscallAlert } from './syscall-alerter.js';
import { watchVm, type WatchStats, type WatchUpdate } from './watch-service.js';

// The guest waits on a second serial port (/dev/ttyS1, a unix socket on the host) between phases,
// so capture is on before each phase starts: learn, normal again, then an attack-like step (a
// program new to the models reading I/O ports through /dev/port).
const NORMAL = `i=0
while [ $i -lt 25 ]; do
  i=$((i+1))
  ls / > /dev/null
  cat /proc/uptime > /dev/null
  echo hello > /tmp/f
  cat /tmp/f > /dev/null
done`;
const WORKLOAD = `${GATE_FUNCTION}
echo WATCH-READY
gate
${NORMAL}
echo LEARN-DONE
gate
${NORMAL}
echo NORMAL-DONE
gate
dd if=/dev/port of=/dev/null bs=1 skip=1016 count=8 2>/dev/null
echo ATTACK-DONE
gate
`;

describe('watchVm on the lab guest', { timeout: 300_000 }, () => {
  let dir: string | undefined;
  let guest: GatedLabVm | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmsight-watch-'));
    guest = await startGatedLabVm({
      name: `watch-${process.pid}`,
      workload: WORKLOAD,
      ready: /^WATCH-READY/,
      directory: dir,
    });
  });

  after(async () => {
    await guest?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Runs one guest phase under `watchVm`, from opening the gate to the phase's marker. */
  async function phase(
    marker: RegExp,
    options: { model?: string; record?: string; fastCapture?: boolean },
  ): Promise<WatchUpdate[]> {
    assert.ok(guest !== undefined);
    const { vm } = guest;
    const abort = new AbortController();
    const updates: WatchUpdate[] = [];
    const watching = (async () => {
      for await (const update of watchVm({ vm: vm.name, signal: abort.signal, ...options })) {
        updates.push(update);
      }
    })();
    // Capture is on once the first stats line arrives.
    while (!updates.some((update) => update.type === 'stats')) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    guest.open();
    await vm.waitForSerial(marker, 120_000);
    abort.abort();
    await watching;
    return updates;
  }

  it('learns per-program models from a recording and alerts on the attack-like process only', async (t) => {
    assert.ok(dir !== undefined);
    const record = join(dir, 'learn.vmtrace.jsonl');
    const model = join(dir, 'model.json');
    // Learned with --fast-capture (the 64 KiB pipe), watched with the default one-page pipe.
    const learned = await phase(/^LEARN-DONE/, { record, fastCapture: true });
    const final = learned.at(-1) as WatchStats;
    assert.equal(final.type, 'stats');
    assert.equal(final.final, true);
    assert.equal(final.sensor.dropped, 0);
    assert.ok(final.sensor.delivered > 1000, `only ${final.sensor.delivered} events`);
    await trainModel({ format: 'vmtrace', input: record, output: model, kind: 'stide' });

    const normal = await phase(/^NORMAL-DONE/, { model });
    const falseAlarms = normal.filter((update): update is SyscallAlert => update.type === 'alert');
    t.diagnostic(
      `false alarms in the normal phase: ${falseAlarms.length} (${falseAlarms.map((alert) => alert.process.programKey).join(', ')})`,
    );

    const attack = await phase(/^ATTACK-DONE/, { model });
    const alerts = attack.filter((update): update is SyscallAlert => update.type === 'alert');
    const dd = alerts.filter((alert) => alert.process.programKey === 'dd');
    assert.ok(dd.length > 0, `no alert named dd: ${JSON.stringify(alerts.map((a) => a.process))}`);
    assert.equal(dd[0]?.model, 'fallback');
    assert.equal(dd[0]?.reason, 'unknown-program');
    assert.ok((dd[0]?.window.length ?? 0) > 0);
    t.diagnostic(
      `attack alert: ${JSON.stringify(dd[0], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
    );
  });
});
