import type Database from 'better-sqlite3';
import { VmsightError } from '../core/index.js';

/**
 * The evidence database's schema as an ordered list of migrations. Each runs once, in its own
 * transaction, and is recorded in `schema_migrations`; a database newer than this list is refused.
 * Append new migrations; never edit a released one.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'cases, items, blobs, custody events, analyses, reports',
    sql: `
      CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE evidence_items (
        id TEXT PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES cases(id),
        kind TEXT NOT NULL CHECK (kind IN ('memory')),
        status TEXT NOT NULL CHECK (status IN ('acquiring', 'complete', 'failed')),
        origin TEXT NOT NULL CHECK (origin IN ('acquired', 'imported')),
        subject TEXT NOT NULL,
        created_at TEXT NOT NULL,
        completed_at TEXT,
        owner_pid INTEGER,
        owner_host TEXT NOT NULL,
        image_sha256 TEXT,
        image_size INTEGER,
        failure TEXT
      ) STRICT;
      CREATE INDEX evidence_items_case ON evidence_items(case_id);
      CREATE TABLE item_blobs (
        item_id TEXT NOT NULL REFERENCES evidence_items(id),
        role TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        encoding TEXT NOT NULL CHECK (encoding IN ('zstd', 'none')),
        content_sha256 TEXT NOT NULL,
        content_size INTEGER NOT NULL,
        PRIMARY KEY (item_id, role)
      ) STRICT;
      CREATE TABLE custody_events (
        item_id TEXT NOT NULL REFERENCES evidence_items(id),
        seq INTEGER NOT NULL,
        version INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        actor_key TEXT NOT NULL,
        at TEXT NOT NULL,
        host TEXT NOT NULL,
        reason TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        signature TEXT NOT NULL,
        PRIMARY KEY (item_id, seq)
      ) STRICT;
      -- Append-only by construction: mistakes are refused here; deliberate edits (a DB editor can
      -- drop triggers) are caught by \`vmsight evidence verify\` through hashes and signatures.
      CREATE TRIGGER custody_events_no_update BEFORE UPDATE ON custody_events
        BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END;
      CREATE TRIGGER custody_events_no_delete BEFORE DELETE ON custody_events
        BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END;
      CREATE TRIGGER evidence_items_complete_is_final BEFORE UPDATE ON evidence_items
        WHEN OLD.status = 'complete'
        BEGIN SELECT RAISE(ABORT, 'complete evidence items are immutable'); END;
      -- Seams for \`vmsight analyze\` and \`vmsight report\` (later sessions): their results are
      -- blobs, their actions custody events.
      CREATE TABLE analyses (
        id TEXT PRIMARY KEY,
        item_id TEXT NOT NULL REFERENCES evidence_items(id),
        plugin TEXT NOT NULL,
        plugin_version TEXT NOT NULL,
        created_at TEXT NOT NULL,
        result_sha256 TEXT NOT NULL
      ) STRICT;
      CREATE TABLE reports (
        id TEXT PRIMARY KEY,
        item_id TEXT NOT NULL REFERENCES evidence_items(id),
        format TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        signature TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'analysis runs and report records filled in; both append-only',
    sql: `
      ALTER TABLE analyses ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE analyses ADD COLUMN result_size INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE analyses ADD COLUMN row_count INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX analyses_item ON analyses(item_id, created_at);
      ALTER TABLE reports ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE reports ADD COLUMN signer_key TEXT NOT NULL DEFAULT '';
      ALTER TABLE reports ADD COLUMN analysis_run_id TEXT;
      CREATE INDEX reports_item ON reports(item_id, created_at);
      -- Work products are evidence too: a result that changed after its custody event signed its
      -- hash must be a new run, never an edit.
      CREATE TRIGGER analyses_no_update BEFORE UPDATE ON analyses
        BEGIN SELECT RAISE(ABORT, 'analyses are append-only'); END;
      CREATE TRIGGER analyses_no_delete BEFORE DELETE ON analyses
        BEGIN SELECT RAISE(ABORT, 'analyses are append-only'); END;
      CREATE TRIGGER reports_no_update BEFORE UPDATE ON reports
        BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END;
      CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports
        BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END;
    `,
  },
];

/** The schema version of `db`: the highest migration recorded (0 before the first). */
export function schemaVersion(db: Database.Database): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as {
    v: number | null;
  };
  return row.v ?? 0;
}

/**
 * Brings `db` (the database at `path`) up to the last of `MIGRATIONS`, each in its own
 * transaction; refuses a database whose schema is newer than this vmsight supports.
 */
export function migrate(db: Database.Database, path: string): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT',
  );
  const current = schemaVersion(db);
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot use the evidence database "${path}": its schema version ${current} is newer than this vmsight supports (${latest})`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare(
        'INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)',
      ).run(migration.version, migration.description, new Date().toISOString());
    })();
  }
}
