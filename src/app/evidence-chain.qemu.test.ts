import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { reportSignatureValid } from '../evidence/index.js';
import { startLabVm, type LabVm } from '../lab/index.js';
import { checkCaseDocument, type Json } from '../reports/internal.js';
import type { ReportModel } from '../reports/index.js';
import { analyzeEvidence, type AnalysisOutcome } from './analysis-service.js';
import {
  acquireEvidence,
  exportEvidence,
  importEvidence,
  initKeys,
  showEvidence,
  showKeys,
  verifyEvidence,
} from './evidence-service.js';
import { reportEvidence } from './report-service.js';

/**
 * Issue 6 end to end on the real lab guest: the provider acquires (paused) → verifies → exports to
 * the analyst's key; the analyst (a second vmsight home with its own keys) imports → analyses →
 * reports in every format; the report's process list is the guest's own listing of that moment.
 *
 * The workload runs a program from a file it then deletes, so that the analysis has a real
 * finding to flag, and prints its /proc (pid, comm, ppid, starttime, argv) and /proc/stat's btime on
 * the serial console.
 */
const VMSIGHT = fileURLToPath(new URL('../../bin/vmsight.js', import.meta.url));

const WORKLOAD = `cp /bin/busybox /tmp/sleep
/tmp/sleep 4242 &
sleep 1
rm /tmp/sleep
sleep 3600 &
nc -l -p 7070 &
sleep 1
echo LISTING-BEGIN
while read -r key value rest; do [ "$key" = btime ] && echo "BTIME|$value"; done < /proc/stat
for d in /proc/[0-9]*; do
  read -r stat < $d/stat || continue
  echo "GUEST|$stat|$(tr '\\0' ' ' < $d/cmdline)"
done
echo LISTING-END
wait
`;

interface GuestTask {
  readonly comm: string;
  readonly ppid: number;
  readonly args: string;
  /** Seconds since the epoch: /proc/stat's btime + /proc/PID/stat's starttime (field 22) / USER_HZ. */
  readonly created: number;
}

/** `GUEST|pid (comm) state ppid …|argv` lines (fs/proc/array.c do_task_stat). */
function guestListing(serial: string): Map<number, GuestTask> {
  const tasks = new Map<number, GuestTask>();
  const btime = Number(/^BTIME\|(\d+)/m.exec(serial)?.[1]);
  for (const match of serial.matchAll(/^GUEST\|(\d+) \((.*)\) \S (\d+) ([^|]*)\|(.*)$/gm)) {
    // The fields after ppid start at field 5 (pgrp); starttime is field 22, in USER_HZ (100) ticks.
    const startTicks = Number((match[4] ?? '').split(' ')[22 - 5]);
    tasks.set(Number(match[1]), {
      comm: match[2] ?? '',
      ppid: Number(match[3]),
      args: (match[5] ?? '').trimEnd(),
      created: btime + startTicks / 100,
    });
  }
  return tasks;
}

/** The report's processes are the guest's own listing of the acquired moment. */
function assertMatchesGuest(model: ReportModel, guest: ReadonlyMap<number, GuestTask>): void {
  const ours = new Map(model.processes.filter((p) => p.pid !== 0).map((p) => [p.pid, p]));
  // Kernel threads under kthreadd (pid 2) come and go on their own between listing and dump.
  const churn = (ppid: number): boolean => ppid === 2;
  for (const [pid, task] of guest) {
    const row = ours.get(pid);
    if (row === undefined) {
      assert.ok(churn(task.ppid), `guest task ${pid} (${task.comm}) is missing from the report`);
      continue;
    }
    // /proc shows a kernel thread's full name (and a kworker's workqueue); comm is 15 bytes.
    const comm = row.kernelThread && task.comm.startsWith(row.comm) ? row.comm : task.comm;
    assert.deepEqual(
      { pid, ppid: row.ppid, comm: row.comm, args: row.args },
      { pid, ppid: task.ppid, comm, args: task.args },
    );
    // btime is whole seconds and starttime truncated ticks: within 1.5 s of the guest's own.
    const created = Date.parse(row.createTime ?? '') / 1000;
    assert.ok(
      Math.abs(created - task.created) <= 1.5,
      `process ${pid} created ${row.createTime}, the guest says ${task.created} s`,
    );
  }
  for (const row of ours.values()) {
    assert.ok(
      guest.has(row.pid) || churn(row.ppid),
      `report process ${row.pid} is not in the guest`,
    );
  }
}

void describe('evidence chain on the lab guest', { timeout: 900_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'vmsight-chain-'));
  const provider = { home: join(scratch, 'provider') };
  const analyst = { home: join(scratch, 'analyst') };
  const bundle = join(scratch, 'evidence.vmsb');
  let vm: LabVm | undefined;
  let guest = new Map<number, GuestTask>();
  let itemId = '';
  let analysis: AnalysisOutcome | undefined;

  before(async () => {
    vm = await startLabVm({ workload: WORKLOAD });
    await vm.waitForSerial(/^LISTING-END/m, 180_000);
    guest = guestListing(readFileSync(vm.serialPath, 'utf8'));
    await initKeys({ ...provider, name: 'provider' });
    await initKeys({ ...analyst, name: 'analyst' });
  });
  after(async () => {
    await vm?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  void it('provider: acquires paused, verifies, exports sealed to the analyst', async () => {
    assert.ok(guest.size > 20, `the guest listed ${guest.size} tasks`);
    const item = await acquireEvidence({
      ...provider,
      vm: vm!.name,
      caseId: 'case-e2e',
      reason: 'tenant reports compromise',
      pause: true,
    });
    assert.equal(item.status, 'complete');
    const verified = await verifyEvidence(item.id, provider);
    assert.equal(verified.ok, true, JSON.stringify(verified.problem));
    const analystKey = join(scratch, 'analyst.pub');
    writeFileSync(analystKey, (await showKeys(analyst)).publicText);
    await exportEvidence(item.id, { ...provider, to: analystKey, output: bundle });
    itemId = item.id;
  });

  void it('analyst: imports under its own key store and analyses, flagging the deleted executable', async () => {
    const providerKey = join(scratch, 'provider.pub');
    writeFileSync(providerKey, (await showKeys(provider)).publicText);
    const imported = await importEvidence(bundle, { ...analyst, expectSender: providerKey });
    assert.equal(imported.itemId, itemId);
    assert.equal(imported.sender.name, 'provider');
    // Through the command line, as an analyst would run it.
    const cli = spawnSync(
      process.execPath,
      [
        VMSIGHT,
        'analyze',
        itemId,
        '--home',
        analyst.home,
        '--reason',
        'independent analysis',
        '--json',
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(cli.status, 0, cli.stderr);
    analysis = JSON.parse(cli.stdout) as AnalysisOutcome;
    const byPlugin = new Map(analysis.plugins.map((p) => [p.plugin, p]));
    for (const plugin of [
      'linux.pslist',
      'linux.psaux',
      'linux.pstree',
      'linux.lsmod',
      'linux.psxview',
      'linux.maps',
      'linux.lsof',
      'linux.sockstat',
    ]) {
      assert.equal(byPlugin.get(plugin)?.status, 'ok', plugin);
      assert.ok((byPlugin.get(plugin)?.rows ?? 0) > 0, plugin);
    }
    const ghost = [...guest].find(
      ([, t]) => t.args === 'sleep 4242' || t.args === '/tmp/sleep 4242',
    );
    assert.ok(ghost !== undefined, 'the guest listed the program it deleted');
    const deleted = analysis.findings.filter((f) => f.kind === 'deleted-executable');
    assert.deepEqual(
      deleted.map((f) => [f.pid, f.severity, f.evidence['path']]),
      [[ghost[0], 'high', '/tmp/sleep (deleted)']],
    );
    // The lab guest is clean otherwise: nothing hidden, no unusual parent, no shell on a socket.
    assert.deepEqual(
      analysis.findings.filter((f) => f.kind !== 'deleted-executable'),
      [],
    );
    const custody = (await showEvidence(itemId, analyst)).events.map((e) => e.action);
    assert.deepEqual(custody, [
      'acquired',
      'stored',
      'verified',
      'exported',
      'received',
      'analysed',
    ]);
  });

  void it('analyst: reports in JSON, CASE, HTML and PDF; the process list is the guest listing', async () => {
    const outputs = Object.fromEntries(
      ['json', 'case', 'html', 'pdf'].map((format) => [format, join(scratch, `report.${format}`)]),
    );
    for (const [format, output] of Object.entries(outputs)) {
      const result = await reportEvidence(itemId, { ...analyst, format, output });
      const sha = execFileSync('sha256sum', [output], { encoding: 'utf8' }).split(' ')[0];
      assert.equal(result.record.sha256, sha, format);
      assert.ok(
        reportSignatureValid(
          result.record.sha256,
          result.record.signature,
          result.record.signerKey,
        ),
      );
    }
    const cli = spawnSync(
      process.execPath,
      [
        VMSIGHT,
        'report',
        itemId,
        '--format',
        'html',
        '-o',
        join(scratch, 'cli.html'),
        '--home',
        analyst.home,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /html {2}sha256 [0-9a-f]{64}/);
    const model = JSON.parse(readFileSync(outputs['json'] ?? '', 'utf8')) as ReportModel;
    assertMatchesGuest(model, guest);
    const user = [...guest.values()].filter((t) => t.args !== '').length;
    assert.ok(user >= 5 && model.processes.filter((p) => !p.kernelThread).length >= user - 1);

    const check = checkCaseDocument(
      JSON.parse(readFileSync(outputs['case'] ?? '', 'utf8')) as Json,
    );
    assert.deepEqual(check.problems, []);
    assert.ok(
      check.properties.has(
        'https://ontology.unifiedcyberontology.org/uco/observable/observableCreatedTime',
      ),
    );
    const pdf = execFileSync('pdftotext', ['-layout', outputs['pdf'] ?? '', '-'], {
      encoding: 'utf8',
    });
    for (const name of ['init', 'nc', 'sleep', 'kthreadd']) assert.ok(pdf.includes(name), name);
    assert.ok(pdf.includes(itemId.slice(0, 20)));
  });

  void it('the custody log records every report and still verifies, on both sides', async () => {
    const details = await showEvidence(itemId, analyst);
    assert.deepEqual(
      details.events.filter((e) => e.action === 'reported').map((e) => e.details['format']),
      ['json', 'case', 'html', 'pdf', 'html'],
    );
    const analystVerify = await verifyEvidence(itemId, analyst);
    assert.equal(analystVerify.ok, true, JSON.stringify(analystVerify.problem));
    const providerVerify = await verifyEvidence(itemId, { ...provider, record: false });
    assert.equal(providerVerify.ok, true);
  });

  void it('provider: acquires from the shared memory backend; the same processes', async () => {
    const item = await acquireEvidence({ ...provider, vm: vm!.name, from: 'shm' });
    assert.equal((await verifyEvidence(item.id, provider)).ok, true);
    const outcome = await analyzeEvidence(item.id, provider);
    assert.equal(outcome.plugins.find((p) => p.plugin === 'linux.pslist')?.status, 'ok');
    const output = join(scratch, 'shm.json');
    await reportEvidence(item.id, { ...provider, format: 'json', output });
    assertMatchesGuest(JSON.parse(readFileSync(output, 'utf8')) as ReportModel, guest);
    const qmp = await vm!.qmp();
    try {
      const status = await qmp.execute('query-status');
      assert.equal(status.running, true, 'the guest runs again after the read');
    } finally {
      await qmp.close();
    }
  });

  void it('analyze --dump: the same plugins and findings on a plain dump-guest-memory file', async () => {
    const dump = join(scratch, 'guest.elf');
    const qmp = await vm!.qmp();
    try {
      await qmp.execute('dump-guest-memory', { paging: false, protocol: `file:${dump}` });
    } finally {
      await qmp.close();
    }
    const cli = spawnSync(process.execPath, [VMSIGHT, 'analyze', '--dump', dump, '--json'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(cli.status, 0, cli.stderr);
    const outcome = JSON.parse(cli.stdout) as AnalysisOutcome;
    assert.equal(outcome.runId, undefined, 'nothing is stored');
    assert.ok(
      outcome.plugins.every((p) => p.status === 'ok'),
      JSON.stringify(outcome.plugins),
    );
    assert.deepEqual(
      outcome.findings.map((f) => f.kind),
      ['deleted-executable'],
    );
  });
});
