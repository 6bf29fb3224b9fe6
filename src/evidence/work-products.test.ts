import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isVmsightError } from '../core/index.js';
import type { EvidenceLocker } from './evidence-locker.js';
import type { EvidenceItem } from './evidence-records.js';
import { collectUnreferencedBlobs } from './blob-collector.js';
import { storeBytes } from './hashing-compressor.js';
import { removeStaleImages } from './memory-image-file.js';
import { reportSignatureValid } from './report-signature.js';
import type { SqliteEvidenceStore } from './sqlite-evidence-store.js';
import { fakeCapture, fakeImage, openTestLocker, scratchDir } from './_test-support.js';

void describe('work products: analyses and reports in custody', () => {
  const scratch = scratchDir('work-products');
  let locker: EvidenceLocker;
  let store: SqliteEvidenceStore;
  let dbPath = '';
  let item: EvidenceItem;
  const image = fakeImage(300_000);

  before(async () => {
    ({ locker, store, dbPath } = await openTestLocker(scratch.path, 'analyst'));
    item = await locker.acquire({ subject: 'vm-a', capture: fakeCapture(image) });
  });
  after(() => {
    store.close();
    scratch.remove();
  });

  void it('extracts the memory image, checking its hash against the item', async () => {
    const file = await locker.extractImage(item.id, join(scratch.path, 'work'));
    assert.equal(file.sha256, item.imageSha256);
    assert.equal(file.size, image.length);
    await file.remove();
  });

  void it('records an analysis run with a signed analysed event naming every result hash', async () => {
    const run = await locker.recordAnalysis(item.id, {
      reason: 'test',
      summary: { findings: 1 },
      results: [
        { plugin: 'linux.pslist', pluginVersion: '1.0.0', rowCount: 2, document: { rows: [1, 2] } },
        {
          plugin: 'vmsight.findings',
          pluginVersion: '0.1.0',
          rowCount: 1,
          document: { rows: ['x'] },
        },
      ],
    });
    const events = await store.getEvents(item.id);
    const analysed = events.at(-1);
    assert.equal(analysed?.action, 'analysed');
    assert.deepEqual(
      (analysed?.details['results'] as { sha256: string }[]).map((r) => r.sha256),
      run.records.map((r) => r.resultSha256),
    );
    const loaded = await locker.analysis(item.id);
    assert.equal(loaded?.runId, run.runId);
    assert.deepEqual(loaded?.documents.get('linux.pslist'), { rows: [1, 2] });
    assert.ok((await store.referencedBlobs()).has(run.records[0]?.resultSha256 ?? ''));
    assert.equal((await locker.verify(item.id, { record: false })).ok, true);

    // A result edited on disk no longer matches the hash its custody event signed.
    const path = locker.blobs.pathOf(run.records[0]?.resultSha256 ?? '');
    chmodSync(path, 0o600);
    writeFileSync(path, '{"rows":[1,2,3]}');
    await assert.rejects(locker.analysis(item.id), (error: unknown) =>
      isVmsightError(error, 'INVALID_INPUT'),
    );
    const verdict = await locker.verify(item.id, { record: false });
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.problem, {
      subject: `analysis result ${run.records[0]?.id ?? ''}`,
      reason: 'its blob does not match its hash',
    });
    // Put it back for the tests that follow.
    writeFileSync(path, '{"rows":[1,2]}');
  });

  void it('signs and records a report; the signature verifies and breaks with the hash', async () => {
    const file = join(scratch.path, 'report.html');
    writeFileSync(file, '<p>report</p>');
    const { record, event } = await locker.recordReport(item.id, { path: file, format: 'html' });
    assert.equal(event.action, 'reported');
    assert.equal(event.details['sha256'], record.sha256);
    assert.ok(reportSignatureValid(record.sha256, record.signature, record.signerKey));
    assert.ok(!reportSignatureValid('0'.repeat(64), record.signature, record.signerKey));
    assert.deepEqual(
      (await store.listReports(item.id)).map((r) => r.id),
      [record.id],
    );
    assert.equal((await locker.verify(item.id, { record: false })).ok, true);
    // The report's kept copy is checked by verify too.
    const copy = locker.blobs.pathOf(record.sha256);
    chmodSync(copy, 0o600);
    writeFileSync(copy, '<p>forged</p>');
    const verdict = await locker.verify(item.id, { record: false });
    assert.deepEqual(verdict.problem, {
      subject: `report ${record.id}`,
      reason: 'its copy does not match its hash',
    });
    writeFileSync(copy, '<p>report</p>');
  });

  void it('keeps analyses and reports append-only in SQLite', () => {
    const db = new Database(dbPath);
    try {
      assert.throws(() => db.prepare('DELETE FROM analyses').run(), /append-only/);
      assert.throws(() => db.prepare("UPDATE reports SET sha256 = 'x'").run(), /append-only/);
    } finally {
      db.close();
    }
  });

  void it('removes decompressed images left by a killed analysis, not those of live ones', async () => {
    const work = join(scratch.path, 'stale');
    mkdirSync(work);
    // pid 2^22 + 1 is above Linux's PID_MAX_LIMIT (include/linux/threads.h): never a live process.
    const dead = `ev-x.${(1 << 22) + 1}.0badc0de.elf`;
    const live = `ev-x.${process.pid}.0badc0de.elf`;
    for (const name of [dead, live, 'unrelated.txt']) writeFileSync(join(work, name), 'x');
    assert.deepEqual(await removeStaleImages(work), [dead]);
    assert.deepEqual(readdirSync(work).sort(), [live, 'unrelated.txt']);
  });

  void it('refuses to extract a memory image whose blob was damaged', async () => {
    const blob = (await store.getBlobs(item.id)).find((b) => b.role === 'memory-image');
    const path = locker.blobs.pathOf(blob?.sha256 ?? '');
    chmodSync(path, 0o600);
    const bytes = readFileSync(path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0xff, bytes.length >> 1);
    writeFileSync(path, bytes);
    await assert.rejects(
      locker.extractImage(item.id, join(scratch.path, 'work')),
      (error: unknown) => isVmsightError(error),
    );
    assert.deepEqual(readdirSync(join(scratch.path, 'work')), [], 'no partial image left behind');
  });
});

void describe('garbage collection of unreferenced blobs', () => {
  const scratch = scratchDir('blob-gc');
  after(() => scratch.remove());

  void it('removes only old blobs nothing references; keeps evidence and young blobs', async () => {
    const { locker, store } = await openTestLocker(scratch.path, 'gc');
    try {
      const item = await locker.acquire({
        subject: 'vm-a',
        capture: fakeCapture(fakeImage(70_000)),
      });
      // A crash after a blob was stored and before its transaction: an orphan on disk.
      const orphan = await storeBytes(locker.blobs, Buffer.from('orphan'), {
        encoding: 'none',
        owner: 'crashed',
      });
      const young = await collectUnreferencedBlobs(store, locker.blobs);
      assert.deepEqual(young.removed, [], 'a young orphan may belong to a run in progress');
      const later = Date.now() + 2 * 3_600_000;
      const dry = await collectUnreferencedBlobs(store, locker.blobs, { now: later, dryRun: true });
      assert.deepEqual(
        dry.removed.map((b) => b.sha256),
        [orphan.sha256],
      );
      assert.ok(await locker.blobs.has(orphan.sha256));
      const done = await collectUnreferencedBlobs(store, locker.blobs, { now: later });
      assert.deepEqual(
        done.removed.map((b) => b.sha256),
        [orphan.sha256],
      );
      assert.equal(await locker.blobs.has(orphan.sha256), false);
      assert.equal(done.kept, 3, 'the memory image, config and identity stay');
      assert.equal((await locker.verify(item.id, { record: false })).ok, true);
    } finally {
      store.close();
    }
  });
});
