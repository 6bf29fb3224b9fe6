import type Database from 'better-sqlite3';
import { toEvent, type EventRow } from './_sqlite-rows.js';
import type { CustodyEvent } from './evidence-records.js';

/**
 * The evidence database's statements on custody logs (`custody_events` of _schema-migrations.ts,
 * append-only by trigger). Callers supply the transactions and the append rules (_store-rules.ts).
 */

/** The seq and hash an appended event must continue from, or undefined for an empty log. */
export function selectLastEvent(
  db: Database.Database,
  itemId: string,
): Pick<CustodyEvent, 'seq' | 'hash'> | undefined {
  return db
    .prepare('SELECT seq, hash FROM custody_events WHERE item_id = ? ORDER BY seq DESC LIMIT 1')
    .get(itemId) as { seq: number; hash: string } | undefined;
}

export function insertEvents(db: Database.Database, events: readonly CustodyEvent[]): void {
  const insert = db.prepare(
    `INSERT INTO custody_events (item_id, seq, version, action, actor_name, actor_key, at, host,
       reason, details, prev_hash, hash, signature)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const event of events) {
    insert.run(
      event.itemId,
      event.seq,
      event.version,
      event.action,
      event.actor.name,
      event.actor.signingKey,
      event.at,
      event.host,
      event.reason,
      JSON.stringify(event.details),
      event.prevHash,
      event.hash,
      event.signature,
    );
  }
}

export function selectEvents(db: Database.Database, itemId: string): CustodyEvent[] {
  // rowid order, not seq order: verification must see events in the order they were written,
  // so that a reordering of rows is visible as a seq out of place.
  const rows = db
    .prepare('SELECT * FROM custody_events WHERE item_id = ? ORDER BY rowid')
    .all(itemId) as EventRow[];
  return rows.map(toEvent);
}
