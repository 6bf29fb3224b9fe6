import type Database from 'better-sqlite3';
import { toItem, type ItemRow } from './_sqlite-rows.js';
import type { CaseRecord, EvidenceItem } from './evidence-records.js';
import type { ItemCompletion, ItemFilter } from './evidence-store.js';

/**
 * The evidence database's statements on cases and items (tables `cases` and `evidence_items` of
 * _schema-migrations.ts). Callers (sqlite-evidence-store.ts) supply the transactions.
 */

export function insertCase(db: Database.Database, record: CaseRecord): void {
  db.prepare('INSERT OR IGNORE INTO cases (id, created_at) VALUES (?, ?)').run(
    record.id,
    record.createdAt,
  );
}

export function selectCase(db: Database.Database, id: string): CaseRecord | undefined {
  const row = db.prepare('SELECT id, created_at FROM cases WHERE id = ?').get(id) as
    { id: string; created_at: string } | undefined;
  return row === undefined ? undefined : { id: row.id, createdAt: row.created_at };
}

export function hasCase(db: Database.Database, id: string): boolean {
  return db.prepare('SELECT 1 FROM cases WHERE id = ?').get(id) !== undefined;
}

export function selectItem(db: Database.Database, id: string): EvidenceItem | undefined {
  const row = db.prepare('SELECT * FROM evidence_items WHERE id = ?').get(id) as
    ItemRow | undefined;
  return row === undefined ? undefined : toItem(row);
}

export function selectItems(db: Database.Database, filter: ItemFilter): EvidenceItem[] {
  const rows = db
    .prepare(
      `SELECT * FROM evidence_items
       WHERE (@caseId IS NULL OR case_id = @caseId) AND (@status IS NULL OR status = @status)
       ORDER BY created_at, id`,
    )
    .all({ caseId: filter.caseId ?? null, status: filter.status ?? null }) as ItemRow[];
  return rows.map(toItem);
}

export function selectAcquiringItems(db: Database.Database): EvidenceItem[] {
  const rows = db
    .prepare("SELECT * FROM evidence_items WHERE status = 'acquiring'")
    .all() as ItemRow[];
  return rows.map(toItem);
}

export function insertItem(db: Database.Database, item: EvidenceItem): void {
  db.prepare(
    `INSERT INTO evidence_items (id, case_id, kind, status, origin, subject, created_at,
       completed_at, owner_pid, owner_host, image_sha256, image_size, failure)
     VALUES (@id, @caseId, @kind, @status, @origin, @subject, @createdAt, @completedAt,
       @ownerPid, @ownerHost, @imageSha256, @imageSize, @failure)`,
  ).run({
    id: item.id,
    caseId: item.caseId,
    kind: item.kind,
    status: item.status,
    origin: item.origin,
    subject: item.subject,
    createdAt: item.createdAt,
    completedAt: item.completedAt ?? null,
    ownerPid: item.ownerPid ?? null,
    ownerHost: item.ownerHost,
    imageSha256: item.imageSha256 ?? null,
    imageSize: item.imageSize ?? null,
    failure: item.failure ?? null,
  });
}

export function markItemComplete(db: Database.Database, completion: ItemCompletion): void {
  db.prepare(
    "UPDATE evidence_items SET status = 'complete', completed_at = ?, image_sha256 = ?, image_size = ? WHERE id = ?",
  ).run(completion.completedAt, completion.imageSha256, completion.imageSize, completion.itemId);
}

export function markItemFailed(db: Database.Database, itemId: string, failure: string): void {
  db.prepare("UPDATE evidence_items SET status = 'failed', failure = ? WHERE id = ?").run(
    failure,
    itemId,
  );
}

/** `markItemFailed` only while the item is still `acquiring` (for `failAbandoned`). */
export function markAcquiringItemFailed(
  db: Database.Database,
  itemId: string,
  failure: string,
): void {
  db.prepare(
    "UPDATE evidence_items SET status = 'failed', failure = ? WHERE id = ? AND status = 'acquiring'",
  ).run(failure, itemId);
}
