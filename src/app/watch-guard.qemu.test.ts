// The live product path of the escape guard: `watchVm` with the guard on, over the TCG sensor's own
// I/O events, on the real lab guest. A static program built on the host now and injected with
// fw_cfg writes the VENOM pattern (CVE-2015-3456) to the floppy data port; watch must pause the VM
// with QMP `stop`, report the escape, and seize the paused VM into this party's evidence store
// (keys in a temporary vmsight home) with a reason naming the CVE. The VM stays paused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { QmpClient } from '../connectors/index.js';
import { startLabVm, type LabVm } from '../lab/index.js';
import { initKeys, listEvidence, showEvidence, verifyEvidence } from './evidence-service.js';
import {
  CAN_BUILD_GUEST_PROGRAMS,
  VENOM_PROGRAM,
  buildGuestPrograms,
} from './internal-test/guard-lab-guest.js';
import { labSensorQemuArgs } from './sensor-addresses.js';
import type { EscapeAlertUpdate, EscapeEvidenceUpdate } from './watch-guard.js';
import { watchVm, type WatchStats, type WatchUpdate } from './watch-service.js';

/** The fields of watch's JSON lines the command-line check reads. */
interface CliLine {
  readonly type: string;
  readonly action?: string;
  readonly cves?: readonly string[];
  readonly paused?: boolean;
  readonly itemId?: string;
  readonly guard?: { readonly seizing: boolean; readonly windows: number };
}

describe(
  'vmsight watch with the escape guard on the lab guest',
  {
    skip: CAN_BUILD_GUEST_PROGRAMS ? false : 'needs qemu-system-x86_64 and gcc',
    timeout: 400_000,
  },
  () => {
    const name = `watch-guard-${process.pid}`;
    let dir: string | undefined;
    let vm: LabVm | undefined;
    let home = '';

    /** Runs one QMP command on the VM's QMP socket, which watch needs free when it starts. */
    async function qmpOnce(command: string): Promise<unknown> {
      assert.ok(vm !== undefined);
      const qmp = await QmpClient.connect(vm.qmpSocket);
      try {
        return await qmp.execute(command);
      } finally {
        await qmp.close();
      }
    }

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vmsight-watch-guard-'));
      const programs = buildGuestPrograms(dir, [VENOM_PROGRAM]);
      // The trigger repeats until the guard pauses the guest: runs before capture is on go unseen.
      const workload = [
        ...programs.install,
        'echo WATCH-GUARD-READY',
        'while true; do sleep 2; /tmp/venom; done',
      ].join('\n');
      vm = await startLabVm({
        name,
        workload,
        bootTimeoutMs: 180_000,
        extraArgs: [...(await labSensorQemuArgs()), ...programs.qemuArgs],
      });
      await vm.waitForSerial(/WATCH-GUARD-READY/, 120_000);
    });

    after(async () => {
      await vm?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it('pauses the VM, alerts with CVE-2015-3456 and seizes verifiable evidence', async (t) => {
      assert.ok(dir !== undefined && vm !== undefined);
      home = join(dir, 'home');
      await initKeys({ home, name: 'provider' });
      const abort = new AbortController();
      const deadline = setTimeout(() => abort.abort(), 240_000);
      const updates: WatchUpdate[] = [];
      try {
        for await (const update of watchVm({
          vm: name,
          guard: true,
          home,
          signal: abort.signal,
        })) {
          updates.push(update);
          // Evidence is the last thing a block does: the run is over once it is in.
          if (update.type === 'evidence') abort.abort();
        }
      } finally {
        clearTimeout(deadline);
      }

      const escapes = updates.filter((u): u is EscapeAlertUpdate => u.type === 'escape');
      const block = escapes.find((alert) => alert.action === 'block');
      const final = updates.at(-1) as WatchStats;
      assert.ok(
        block !== undefined,
        `no block; escapes ${JSON.stringify(escapes.map((e) => e.ruleId))}; final ${JSON.stringify(final, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
      );
      assert.equal(block.vm, name);
      assert.equal(block.ruleId, 'venom-fdc-fifo-overrun');
      assert.ok(block.cves.includes('CVE-2015-3456'));
      assert.ok(block.paused, block.pauseError);
      assert.ok(block.events.length > 0);
      assert.ok(
        block.events.every((e) => e.address === 0x3f5 && e.direction === 'write'),
        'the matching events are the writes to the FDC data port',
      );
      // Only the VENOM rules may have fired (boot and the console are benign).
      assert.deepEqual(
        escapes.filter((alert) => !alert.ruleId.startsWith('venom-fdc-')).map((a) => a.ruleId),
        [],
      );
      assert.equal(final.type, 'stats');
      assert.equal(final.final, true);
      assert.equal(final.guard?.seizing, true);
      assert.ok((final.guard?.windows ?? 0) > 0);

      // The VM stays paused after watch has gone: resuming is the operator's decision.
      assert.equal(((await qmpOnce('query-status')) as { status: string }).status, 'paused');

      const seized = updates.find((u): u is EscapeEvidenceUpdate => u.type === 'evidence');
      assert.ok(seized?.itemId !== undefined, `evidence failed: ${seized?.error}`);
      assert.ok(seized.reason.includes('CVE-2015-3456'));
      const verified = await verifyEvidence(seized.itemId, { home });
      assert.equal(verified.ok, true, JSON.stringify(verified.problem));
      const details = await showEvidence(seized.itemId, { home });
      assert.equal(details.item.subject, name);
      assert.equal(details.item.status, 'complete');
      const reasons = details.events.map((event) => event.reason);
      assert.ok(
        reasons.some(
          (reason) => reason.includes('CVE-2015-3456') && reason.includes('venom-fdc-fifo-overrun'),
        ),
        JSON.stringify(reasons),
      );
      t.diagnostic(
        `blocked ${block.triggerToStoppedMs?.toFixed(1)} ms after the trigger; ${final.sensor.delivered} events, ${final.guard?.windows} guard windows; evidence ${seized.itemId} (${details.item.imageSize} bytes)`,
      );
    });

    it('does the same from the command line: JSON escape and evidence lines, exit status 1', async () => {
      assert.ok(vm !== undefined && home !== '');
      // The operator resumes; the guest's loop runs the trigger again within 2 s.
      await qmpOnce('cont');
      const cli = spawnSync(
        process.execPath,
        [
          fileURLToPath(new URL('../../bin/vmsight.js', import.meta.url)),
          'watch',
          '--vm',
          name,
          '--home',
          home,
          '--duration',
          '25',
        ],
        { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } },
      );
      assert.equal(cli.status, 1, cli.stderr);
      const lines: CliLine[] = [];
      for (const line of cli.stdout.split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as CliLine);
      const block = lines.find((line) => line.type === 'escape' && line.action === 'block');
      assert.ok(block?.cves?.includes('CVE-2015-3456') === true, cli.stdout.slice(0, 2000));
      assert.equal(block?.paused, true);
      const seized = lines.find((line) => line.type === 'evidence');
      assert.ok(seized?.itemId !== undefined, JSON.stringify(seized));
      assert.equal(lines.at(-1)?.guard?.seizing, true);
      assert.equal(((await qmpOnce('query-status')) as { status: string }).status, 'paused');
      const items = await listEvidence({ home });
      assert.ok(items.some((item) => item.id === seized.itemId));
      assert.equal((await verifyEvidence(seized.itemId, { home })).ok, true);
    });
  },
);
