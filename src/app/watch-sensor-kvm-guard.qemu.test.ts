// The escape guard of `vmsight watch --sensor kvm` (on by default with I/O), under real KVM: a boot
// sector of the test's own making writes the VENOM pattern (CVE-2015-3456: the floppy data port
// 0x3f5 written on and on, no status or result read) 100,000 times; watch must pause the VM with
// QMP `stop` before the guest gets to its end, and report the escape. SeaBIOS's own floppy
// traffic before it must not block.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kvmSkipReason, startKvmIoGuest, type KvmIoGuest } from '../sensors/internal.js';
import { jsonLines, runCli, runCliWhile } from './internal-test/watch-sensor-cli.js';

const skip = kvmSkipReason() ?? false;
const VENOM_WRITES = 100_000;

describe('vmsight watch --sensor kvm: the escape guard', { skip, timeout: 300_000 }, () => {
  let guest: KvmIoGuest | undefined;
  let home = '';
  const name = 'kvmvenom';

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'vmsight-watch-kvm-guard-'));
    const socket = join(home, 'watch-qmp.sock');
    guest = await startKvmIoGuest(
      [{ kind: 'pio', direction: 'write', size: 1, at: 0x3f5, value: 0x42 }],
      VENOM_WRITES,
      { extraArgs: ['-qmp', `unix:${socket},server=on,wait=off`] },
    );
    const added = runCli(['vm', 'add', name, '--qmp', socket, '--pid', String(guest.pid)], {
      VMSIGHT_HOME: home,
    });
    assert.equal(added.status, 0, added.stderr);
  });

  after(async () => {
    await guest?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('pauses the VM on the VENOM writes and reports the escape', async () => {
    assert.ok(guest !== undefined);
    const running = guest;
    const status = async (): Promise<string> =>
      ((await running.qmp.execute('query-status')) as { status: string }).status;
    const run = await runCliWhile(
      ['watch', '--vm', name, '--sensor', 'kvm'],
      async () => {
        await running.qmp.execute('cont');
        const deadline = Date.now() + 180_000;
        while ((await status()) !== 'paused' && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
      { env: { VMSIGHT_HOME: home } },
    );
    assert.equal(run.status, 1, `exit 1 after an alert: ${run.stderr}`);
    const lines = jsonLines(run.stdout);
    // venom-fdc-long-command (action alert) may fire first: a command longer than 9 bytes.
    const escapes = lines.filter((line) => line['type'] === 'escape');
    console.log(
      `# escapes: ${escapes.map((line) => `${String(line['ruleId'])}:${String(line['action'])}`).join(', ')}`,
    );
    const escape = escapes.find((line) => line['action'] === 'block') as
      { action: string; ruleId: string; cves: string[]; paused: boolean; vm: string } | undefined;
    assert.ok(escape !== undefined, run.stdout.slice(-2000));
    assert.equal(escape.action, 'block');
    assert.equal(escape.ruleId, 'venom-fdc-fifo-overrun');
    assert.ok(escape.cves.includes('CVE-2015-3456'));
    assert.equal(escape.vm, name);
    assert.equal(escape.paused, true);
    assert.equal(await status(), 'paused', 'the VM stays paused');
    assert.equal(await running.completions(), 0, 'paused before the guest reached its end');
    const final = lines.at(-1) as { type: string; sensorKind: string; alerts: number };
    assert.equal(final.type, 'stats');
    assert.equal(final.sensorKind, 'kvm');
    assert.ok(final.alerts >= 1);
  });
});
