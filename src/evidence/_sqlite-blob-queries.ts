import type Database from 'better-sqlite3';
import { toBlob, type BlobRow } from './_sqlite-rows.js';
import type { ItemBlob } from './evidence-records.js';

/**
 * The evidence database's statements on blob references: an item's blobs (`item_blobs` of
 * _schema-migrations.ts) and every hash any table names. Callers supply the transactions.
 */

export function insertBlobs(
  db: Database.Database,
  itemId: string,
  blobs: readonly ItemBlob[],
): void {
  const insert = db.prepare(
    `INSERT INTO item_blobs (item_id, role, sha256, size, encoding, content_sha256, content_size)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const blob of blobs) {
    insert.run(
      itemId,
      blob.role,
      blob.sha256,
      blob.size,
      blob.encoding,
      blob.contentSha256,
      blob.contentSize,
    );
  }
}

export function selectBlobs(db: Database.Database, itemId: string): ItemBlob[] {
  const rows = db
    .prepare(
      'SELECT role, sha256, size, encoding, content_sha256, content_size FROM item_blobs WHERE item_id = ? ORDER BY rowid',
    )
    .all(itemId) as BlobRow[];
  return rows.map(toBlob);
}

/** Every blob hash an item, an analysis or a report names (what `evidence gc` must keep). */
export function selectReferencedBlobs(db: Database.Database): Set<string> {
  const rows = db
    .prepare(
      `SELECT sha256 FROM item_blobs UNION SELECT result_sha256 FROM analyses
       UNION SELECT sha256 FROM reports`,
    )
    .all() as {
    sha256: string;
  }[];
  return new Set(rows.map((row) => row.sha256));
}
