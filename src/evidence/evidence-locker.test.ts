import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isVmsightError } from '../core/index.js';
import { signCustodyEvent } from './custody-event.js';
import { GENESIS_HASH, type EvidenceItem } from './evidence-records.js';
import { KeyStore } from './key-store.js';
import type { EvidenceLocker } from './evidence-locker.js';
import type { SqliteEvidenceStore } from './sqlite-evidence-store.js';
import { fakeCapture, fakeImage, openTestLocker, scratchDir } from './_test-support.js';
import { createHash } from 'node:crypto';

void describe('EvidenceLocker: acquire, verify and tampering', () => {
  const scratch = scratchDir('locker');
  let locker: EvidenceLocker;
  let store: SqliteEvidenceStore;
  let dbPath = '';
  const image = fakeImage(3 << 20);

  before(async () => {
    ({ locker, store, dbPath } = await openTestLocker(scratch.path, 'provider'));
  });
  after(() => {
    store.close();
    scratch.remove();
  });

  const acquire = (): Promise<EvidenceItem> =>
    locker.acquire({
      subject: 'vm-a',
      caseId: 'case-7',
      reason: 'tenant ticket 42',
      capture: fakeCapture(image),
    });

  /** Runs SQL on the database behind the store's back, the way an attacker with file access would. */
  const tamper = (sql: string, ...params: unknown[]): void => {
    const db = new Database(dbPath);
    try {
      db.exec(
        'DROP TRIGGER IF EXISTS custody_events_no_update; DROP TRIGGER IF EXISTS custody_events_no_delete; DROP TRIGGER IF EXISTS evidence_items_complete_is_final;',
      );
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  };

  void it('stores the image compressed under its hash, with the hash of the uncompressed image', async () => {
    const item = await acquire();
    assert.equal(item.status, 'complete');
    assert.equal(item.imageSize, image.length);
    assert.equal(item.imageSha256, createHash('sha256').update(image).digest('hex'));
    const details = await locker.show(item.id);
    assert.deepEqual(
      details.blobs.map((blob) => blob.role),
      ['memory-image', 'vm-config', 'vm-identity'],
    );
    const memory = details.blobs[0]!;
    assert.ok(memory.size < memory.contentSize, 'the zeros compress');
    const path = join(scratch.path, 'blobs', 'sha256', memory.sha256.slice(0, 2), memory.sha256);
    assert.equal(createHash('sha256').update(readFileSync(path)).digest('hex'), memory.sha256);
    assert.deepEqual(
      details.events.map((event) => [event.seq, event.action, event.actor.name, event.reason]),
      [
        [1, 'acquired', 'provider', 'tenant ticket 42'],
        [2, 'stored', 'provider', 'tenant ticket 42'],
      ],
    );
    assert.deepEqual(details.config?.['query-version'], {
      qemu: { major: 7, minor: 2, micro: 22 },
    });
    assert.deepEqual(readdirSync(join(scratch.path, 'blobs', 'tmp')), []);
  });

  void it('verifies an untouched item and records the verification', async () => {
    const item = await acquire();
    const report = await locker.verify(item.id);
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    assert.equal(report.eventsChecked, 2);
    assert.equal(report.blobsChecked, 3);
    const again = await locker.verify(item.id, { record: false });
    assert.equal(again.ok, true);
    assert.equal(again.eventsChecked, 3);
    assert.equal((await locker.show(item.id)).events.at(-1)?.action, 'verified');
  });

  void it('names the blob when one byte of it is flipped', async () => {
    const item = await acquire();
    const memory = (await locker.show(item.id)).blobs[0]!;
    const path = join(scratch.path, 'blobs', 'sha256', memory.sha256.slice(0, 2), memory.sha256);
    chmodSync(path, 0o600);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(path, bytes);
    const report = await locker.verify(item.id);
    assert.equal(report.ok, false);
    assert.match(report.problem?.subject ?? '', /^blob memory-image \(sha256 [0-9a-f]{16}…\)$/);
    assert.match(report.problem?.reason ?? '', /altered/);
  });

  void it('names the custody event whose row was edited in SQLite', async () => {
    const item = await acquire();
    tamper(
      "UPDATE custody_events SET reason = 'routine check' WHERE item_id = ? AND seq = 1",
      item.id,
    );
    const report = await locker.verify(item.id);
    assert.deepEqual(report.problem, {
      subject: 'custody event #1 (acquired)',
      reason: 'its content does not match its hash: it was edited',
    });
  });

  void it('names the first event out of place when events are reordered', async () => {
    const item = await acquire();
    await locker.verify(item.id);
    const db = new Database(dbPath);
    db.exec('DROP TRIGGER IF EXISTS custody_events_no_delete');
    db.transaction(() => {
      const rows = db
        .prepare('SELECT * FROM custody_events WHERE item_id = ? ORDER BY seq')
        .all(item.id) as Record<string, unknown>[];
      db.prepare('DELETE FROM custody_events WHERE item_id = ?').run(item.id);
      const insert = db.prepare('INSERT INTO custody_events VALUES (' + '?, '.repeat(12) + '?)');
      for (const row of [rows[0], rows[2], rows[1]]) insert.run(...Object.values(row ?? {}));
    })();
    db.close();
    const report = await locker.verify(item.id);
    assert.equal(report.problem?.subject, 'custody event #3 (verified)');
    assert.match(report.problem?.reason ?? '', /at position 2 .*reordered/);
  });

  void it('names the event whose signature was replaced', async () => {
    const item = await acquire();
    const [first] = await store.getEvents(item.id);
    tamper(
      'UPDATE custody_events SET signature = ? WHERE item_id = ? AND seq = 2',
      first!.signature,
      item.id,
    );
    const report = await locker.verify(item.id);
    assert.equal(report.problem?.subject, 'custody event #2 (stored)');
    assert.match(report.problem?.reason ?? '', /signature is not a valid signature by "provider"/);
  });

  void it('names the first event re-signed by a key this store does not trust', async () => {
    const item = await acquire();
    const attacker = await KeyStore.init(join(scratch.path, 'attacker-keys'), { name: 'provider' });
    const original = await store.getEvents(item.id);
    let prevHash = GENESIS_HASH;
    const forged = original.map((event) => {
      const next = signCustodyEvent(attacker, {
        ...event,
        prevHash,
        reason: event.seq === 1 ? 'routine check' : event.reason,
      });
      prevHash = next.hash;
      return next;
    });
    for (const event of forged) {
      tamper(
        'UPDATE custody_events SET reason = ?, actor_key = ?, at = ?, prev_hash = ?, hash = ?, signature = ? WHERE item_id = ? AND seq = ?',
        event.reason,
        event.actor.signingKey,
        event.at,
        event.prevHash,
        event.hash,
        event.signature,
        item.id,
        event.seq,
      );
    }
    const report = await locker.verify(item.id);
    assert.equal(report.problem?.subject, 'custody event #1 (acquired)');
    assert.match(
      report.problem?.reason ?? '',
      /signed by "provider" with key [0-9a-f]{32}, which this key store does not trust/,
    );
  });

  void it('names a blob row or item row edited to match a substituted blob', async () => {
    const item = await acquire();
    tamper(
      "UPDATE item_blobs SET size = size + 1 WHERE item_id = ? AND role = 'vm-config'",
      item.id,
    );
    assert.match(
      (await locker.verify(item.id)).problem?.reason ?? '',
      /does not match what custody event #2 signed/,
    );
    const other = await acquire();
    tamper('UPDATE evidence_items SET image_sha256 = ? WHERE id = ?', 'f'.repeat(64), other.id);
    const report = await locker.verify(other.id);
    assert.equal(report.problem?.subject, `item "${other.id}"`);
  });

  void it('refuses to complete nothing: a failing capture leaves a failed item without events', async () => {
    await assert.rejects(
      locker.acquire({
        subject: 'vm-a',
        capture: async (sink) => {
          await sink([Buffer.alloc(10)]);
          throw new Error('QEMU went away');
        },
      }),
      /QEMU went away/,
    );
    const failed = (await store.listItems({ status: 'failed' })).at(-1);
    assert.equal(failed?.failure, 'QEMU went away');
    assert.deepEqual(await store.getEvents(failed?.id ?? ''), []);
    const report = await locker.verify(failed?.id ?? '');
    assert.equal(report.ok, false);
    assert.match(report.problem?.reason ?? '', /failed, not complete/);
  });

  void it('reports an unknown item as NOT_FOUND', async () => {
    await assert.rejects(locker.verify('ev-nope'), (error) => isVmsightError(error, 'NOT_FOUND'));
  });
});
