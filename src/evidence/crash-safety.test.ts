import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startLabVm, type LabVm } from '../lab/index.js';
import { KeyStore } from './key-store.js';
import { SqliteEvidenceStore } from './sqlite-evidence-store.js';
import { fakeCapture, openTestLocker, scratchDir } from './_test-support.js';

/**
 * Crash safety for real: the `vmsight` command runs as a child process and is killed with SIGKILL
 * in the middle of its work; the store must then open cleanly, hold nothing half-done, and a rerun
 * must succeed.
 */
const VMSIGHT = fileURLToPath(new URL('../../bin/vmsight.js', import.meta.url));

function vmsight(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [VMSIGHT, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function start(...args: string[]): ChildProcess {
  return spawn(process.execPath, [VMSIGHT, ...args], { stdio: 'ignore' });
}

function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Polls `condition` every 5 ms; fails if `child` exits first (the kill point was missed). */
async function killWhen(
  child: ChildProcess,
  what: string,
  condition: () => boolean,
): Promise<void> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 120_000;
  while (!condition()) {
    assert.ok(!exited, `the child finished before ${what}: cannot test a kill there`);
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(5);
  }
  child.kill('SIGKILL');
  await new Promise<void>((resolve) => (exited ? resolve() : child.once('exit', () => resolve())));
}

function tempBytes(dir: string): number {
  return filesIn(dir).reduce((sum, name) => {
    try {
      return sum + statSync(join(dir, name)).size;
    } catch {
      return sum;
    }
  }, 0);
}

/** SQLite's own check of the database a killed process left behind. */
function inspect(home: string): { integrity: string } {
  const store = SqliteEvidenceStore.open(join(home, 'evidence', 'evidence.db'));
  try {
    return { integrity: store.integrityCheck() };
  } finally {
    store.close();
  }
}

void describe('crash safety: kill -9 during acquisition', { timeout: 600_000 }, () => {
  const scratch = scratchDir('crash-acquire');
  const home = join(scratch.path, 'home');
  let vm: LabVm | undefined;

  before(async () => {
    vm = await startLabVm({});
    await KeyStore.init(join(home, 'keys'), { name: 'provider' });
  });
  after(async () => {
    await vm?.stop();
    scratch.remove();
  });

  const blobsTmp = join(home, 'evidence', 'blobs', 'tmp');
  const fifoTmp = join(home, 'evidence', 'tmp');

  for (const [point, condition] of [
    [
      'before the dump is streaming (FIFO created)',
      () => filesIn(fifoTmp).some((name) => filesIn(join(fifoTmp, name)).length > 0),
    ],
    ['while the image is streaming', () => tempBytes(blobsTmp) > 0],
  ] as const) {
    void it(`leaves nothing marked complete when killed ${point}, and a rerun works`, async () => {
      const child = start(
        'evidence',
        'acquire',
        '--vm',
        vm!.name,
        '--home',
        home,
        '--reason',
        'crash test',
      );
      await killWhen(child, point, condition);

      assert.equal(inspect(home).integrity, 'ok');
      const raw = SqliteEvidenceStore.open(join(home, 'evidence', 'evidence.db'));
      const items = await raw.listItems();
      const killed = items.at(-1);
      assert.equal(killed?.status, 'acquiring', 'the killed item was never completed');
      assert.deepEqual(await raw.getEvents(killed?.id ?? ''), [], 'no orphaned custody event');
      raw.close();

      // The VM survives: QEMU's dump ends (into the guardian) and the guest runs on.
      const qmp = await vm!.qmp();
      for (let i = 0; i < 200 && (await qmp.execute('query-status')).status !== 'running'; i++)
        await sleep(50);
      assert.equal((await qmp.execute('query-status')).status, 'running');
      await qmp.close();

      // The FIFO guardian (fifo-guardian.ts) saw its parent die, drained what QEMU still wrote (or
      // waited its bounded 5 s for a writer that never came) and left.
      for (let i = 0; i < 500 && spawnSync('pgrep', ['-f', fifoTmp]).status === 0; i++)
        await sleep(20);
      assert.notEqual(
        spawnSync('pgrep', ['-f', fifoTmp]).status,
        0,
        'a FIFO guardian outlived its parent',
      );

      const list = vmsight('evidence', 'list', '--home', home, '--json');
      assert.equal(list.status, 0, list.stderr);
      const listed = JSON.parse(list.stdout) as { id: string; status: string; failure?: string }[];
      const recovered = listed.find((item) => item.id === killed?.id);
      assert.equal(recovered?.status, 'failed');
      assert.match(recovered?.failure ?? '', /abandoned/);
      assert.deepEqual(filesIn(blobsTmp), [], 'temporary blob files are removed');
      assert.deepEqual(filesIn(fifoTmp), [], 'the FIFO directory is removed');

      const rerun = vmsight('evidence', 'acquire', '--vm', vm!.name, '--home', home, '--json');
      assert.equal(rerun.status, 0, rerun.stderr);
      const id = (JSON.parse(rerun.stdout) as { id: string }).id;
      const verify = vmsight('evidence', 'verify', id, '--home', home);
      assert.equal(verify.status, 0, verify.stdout + verify.stderr);
      assert.equal(vmsight('evidence', 'verify', killed?.id ?? '', '--home', home).status, 1);
    });
  }
});

void describe('crash safety: kill -9 during import', { timeout: 600_000 }, () => {
  const scratch = scratchDir('crash-import');
  const home = join(scratch.path, 'analyst');
  const bundle = join(scratch.path, 'big.vmsb');
  let itemId = '';

  before(async () => {
    const analystKeys = await KeyStore.init(join(home, 'keys'), { name: 'analyst' });
    const provider = await openTestLocker(join(scratch.path, 'provider'), 'provider');
    try {
      // Incompressible, so the import streams long enough to be killed in the middle.
      const item = await provider.locker.acquire({
        subject: 'vm',
        capture: fakeCapture(randomBytes(192 << 20)),
      });
      itemId = item.id;
      await provider.locker.export(item.id, {
        recipientKey: analystKeys.identity.encryptionKey,
        output: bundle,
      });
    } finally {
      provider.store.close();
    }
  });
  after(() => scratch.remove());

  void it('accepts nothing when killed mid-import, and a rerun imports and verifies', async () => {
    const blobsTmp = join(home, 'evidence', 'blobs', 'tmp');
    const child = start('evidence', 'import', bundle, '--home', home);
    await killWhen(child, 'the import is streaming', () => tempBytes(blobsTmp) > 16 << 20);

    assert.equal(inspect(home).integrity, 'ok');
    const raw = SqliteEvidenceStore.open(join(home, 'evidence', 'evidence.db'));
    assert.equal(await raw.getItem(itemId), undefined);
    assert.deepEqual(await raw.getEvents(itemId), []);
    raw.close();

    const list = vmsight('evidence', 'list', '--home', home, '--json');
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
    assert.deepEqual(filesIn(blobsTmp), []);

    const rerun = vmsight('evidence', 'import', bundle, '--home', home);
    assert.equal(rerun.status, 0, rerun.stderr);
    const verify = vmsight('evidence', 'verify', itemId, '--home', home);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  });
});
