import Database from 'better-sqlite3';
import { VmsightError } from '../core/index.js';
import { MIGRATIONS } from './_schema-migrations.js';
import { checkEventsContinue, checkRecordsOf, requireStatus } from './_store-rules.js';
import { toEvent, toItem, type BlobRow, type EventRow, type ItemRow } from './_sqlite-rows.js';
import type { CaseRecord, CustodyEvent, EvidenceItem, ItemBlob } from './evidence-records.js';
import type { EvidenceStore, ItemCompletion, ItemFilter } from './evidence-store.js';
import type { AnalysisRecord, ReportRecord } from './work-products.js';

/**
 * The `EvidenceStore` on disk: SQLite through better-sqlite3, in WAL mode with `synchronous=FULL`
 * so that a committed transaction survives a crash or power loss, and with foreign keys on.
 *
 * @example
 * ```ts
 * import { SqliteEvidenceStore } from './sqlite-evidence-store.js';
 * const store = SqliteEvidenceStore.open('/var/lib/vmsight/evidence/evidence.db');
 * console.log((await store.listItems()).length);
 * store.close();
 * ```
 */
export class SqliteEvidenceStore implements EvidenceStore {
  readonly path: string;
  readonly #db: Database.Database;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
  }

  /** Opens (creating if needed) and migrates the database at `path` (`:memory:` for tests). */
  static open(path: string): SqliteEvidenceStore {
    let db: Database.Database;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 10000');
    } catch (error) {
      throw new VmsightError(
        'IO_ERROR',
        `Cannot open the evidence database "${path}": ${(error as Error).message}`,
        { cause: error, details: { path } },
      );
    }
    const store = new SqliteEvidenceStore(path, db);
    try {
      store.#migrate();
    } catch (error) {
      db.close();
      throw error;
    }
    return store;
  }

  /** The schema version after opening. */
  get schemaVersion(): number {
    const row = this.#db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as {
      v: number | null;
    };
    return row.v ?? 0;
  }

  /** SQLite's own consistency check (`PRAGMA integrity_check`): "ok" when sound. */
  integrityCheck(): string {
    return (this.#db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
  }

  #migrate(): void {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT',
    );
    const current = this.schemaVersion;
    const latest = MIGRATIONS.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new VmsightError(
        'INVALID_INPUT',
        `Cannot use the evidence database "${this.path}": its schema version ${current} is newer than this vmsight supports (${latest})`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      this.#db.transaction(() => {
        this.#db.exec(migration.sql);
        this.#db
          .prepare(
            'INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)',
          )
          .run(migration.version, migration.description, new Date().toISOString());
      })();
    }
  }

  ensureCase(record: CaseRecord): Promise<void> {
    return this.#run(() => {
      this.#db
        .prepare('INSERT OR IGNORE INTO cases (id, created_at) VALUES (?, ?)')
        .run(record.id, record.createdAt);
    });
  }

  getCase(id: string): Promise<CaseRecord | undefined> {
    return this.#get(() => {
      const row = this.#db.prepare('SELECT id, created_at FROM cases WHERE id = ?').get(id) as
        { id: string; created_at: string } | undefined;
      return row === undefined ? undefined : { id: row.id, createdAt: row.created_at };
    });
  }

  beginItem(item: EvidenceItem): Promise<void> {
    return this.#run(() => {
      this.#db.transaction(() => {
        this.#requireNew(item.id);
        this.#requireCase(item.caseId);
        this.#insertItem({ ...item, status: 'acquiring' });
      })();
    });
  }

  completeItem(completion: ItemCompletion): Promise<void> {
    return this.#run(() => {
      this.#db.transaction(() => {
        requireStatus(this.#item(completion.itemId), completion.itemId, 'acquiring', 'complete');
        checkEventsContinue(completion.itemId, undefined, completion.events);
        this.#insertBlobs(completion.itemId, completion.blobs);
        this.#insertEvents(completion.events);
        this.#db
          .prepare(
            "UPDATE evidence_items SET status = 'complete', completed_at = ?, image_sha256 = ?, image_size = ? WHERE id = ?",
          )
          .run(
            completion.completedAt,
            completion.imageSha256,
            completion.imageSize,
            completion.itemId,
          );
      })();
    });
  }

  failItem(itemId: string, failure: string): Promise<void> {
    return this.#run(() => {
      this.#db.transaction(() => {
        requireStatus(this.#item(itemId), itemId, 'acquiring', 'fail');
        this.#db
          .prepare("UPDATE evidence_items SET status = 'failed', failure = ? WHERE id = ?")
          .run(failure, itemId);
      })();
    });
  }

  addCompleteItem(
    item: EvidenceItem,
    blobs: readonly ItemBlob[],
    events: readonly CustodyEvent[],
  ): Promise<void> {
    return this.#run(() => {
      this.#db.transaction(() => {
        this.#requireNew(item.id);
        this.#requireCase(item.caseId);
        checkEventsContinue(item.id, undefined, events);
        this.#insertItem({ ...item, status: 'complete' });
        this.#insertBlobs(item.id, blobs);
        this.#insertEvents(events);
      })();
    });
  }

  appendEvents(itemId: string, events: readonly CustodyEvent[]): Promise<void> {
    return this.#run(() => {
      this.#db.transaction(() => {
        this.#appendChecked(itemId, events, 'append custody events to');
      })();
    });
  }

  /** Inside a transaction: the `appendEvents` rules, then the insert. */
  #appendChecked(itemId: string, list: readonly CustodyEvent[], doing: string): void {
    requireStatus(this.#item(itemId), itemId, 'complete', doing);
    const last = this.#db
      .prepare('SELECT seq, hash FROM custody_events WHERE item_id = ? ORDER BY seq DESC LIMIT 1')
      .get(itemId) as { seq: number; hash: string } | undefined;
    checkEventsContinue(itemId, last, list);
    this.#insertEvents(list);
  }

  recordAnalyses(
    itemId: string,
    records: readonly AnalysisRecord[],
    event: CustodyEvent,
  ): Promise<void> {
    return this.#run(() => {
      this.#db.transaction(() => {
        checkRecordsOf(itemId, records);
        this.#appendChecked(itemId, [event], 'record an analysis of');
        const insert = this.#db.prepare(
          `INSERT INTO analyses (id, item_id, run_id, plugin, plugin_version, created_at,
             result_sha256, result_size, row_count)
           VALUES (@id, @itemId, @runId, @plugin, @pluginVersion, @createdAt, @resultSha256,
             @resultSize, @rowCount)`,
        );
        for (const record of records) {
          insert.run({ ...record });
        }
      })();
    });
  }

  listAnalyses(itemId: string): Promise<AnalysisRecord[]> {
    return this.#get(
      () =>
        this.#db
          .prepare(
            `SELECT id, item_id AS itemId, run_id AS runId, plugin, plugin_version AS pluginVersion,
               created_at AS createdAt, result_sha256 AS resultSha256, result_size AS resultSize,
               row_count AS rowCount
             FROM analyses WHERE item_id = ? ORDER BY created_at, rowid`,
          )
          .all(itemId) as AnalysisRecord[],
    );
  }

  recordReport(record: ReportRecord, event: CustodyEvent): Promise<void> {
    return this.#run(() => {
      this.#db.transaction(() => {
        this.#appendChecked(record.itemId, [event], 'record a report of');
        this.#db
          .prepare(
            `INSERT INTO reports (id, item_id, format, created_at, sha256, signature, size,
               signer_key, analysis_run_id)
             VALUES (@id, @itemId, @format, @createdAt, @sha256, @signature, @size, @signerKey,
               @analysisRunId)`,
          )
          .run({ ...record, analysisRunId: record.analysisRunId ?? null });
      })();
    });
  }

  listReports(itemId: string): Promise<ReportRecord[]> {
    return this.#get(() => {
      const rows = this.#db
        .prepare(
          `SELECT id, item_id AS itemId, format, created_at AS createdAt, sha256, size, signature,
             signer_key AS signerKey, analysis_run_id AS analysisRunId
           FROM reports WHERE item_id = ? ORDER BY created_at, rowid`,
        )
        .all(itemId) as (ReportRecord & { analysisRunId: string | null })[];
      return rows.map(({ analysisRunId, ...rest }) =>
        analysisRunId === null ? rest : { ...rest, analysisRunId },
      );
    });
  }

  getItem(id: string): Promise<EvidenceItem | undefined> {
    return this.#get(() => this.#item(id));
  }

  listItems(filter: ItemFilter = {}): Promise<EvidenceItem[]> {
    return this.#get(() => {
      const rows = this.#db
        .prepare(
          `SELECT * FROM evidence_items
           WHERE (@caseId IS NULL OR case_id = @caseId) AND (@status IS NULL OR status = @status)
           ORDER BY created_at, id`,
        )
        .all({ caseId: filter.caseId ?? null, status: filter.status ?? null }) as ItemRow[];
      return rows.map(toItem);
    });
  }

  getBlobs(itemId: string): Promise<ItemBlob[]> {
    return this.#get(() => {
      const rows = this.#db
        .prepare(
          'SELECT role, sha256, size, encoding, content_sha256, content_size FROM item_blobs WHERE item_id = ? ORDER BY rowid',
        )
        .all(itemId) as BlobRow[];
      return rows.map((row) => ({
        role: row.role,
        sha256: row.sha256,
        size: row.size,
        encoding: row.encoding,
        contentSha256: row.content_sha256,
        contentSize: row.content_size,
      }));
    });
  }

  getEvents(itemId: string): Promise<CustodyEvent[]> {
    return this.#get(() => {
      // rowid order, not seq order: verification must see events in the order they were written,
      // so that a reordering of rows is visible as a seq out of place.
      const rows = this.#db
        .prepare('SELECT * FROM custody_events WHERE item_id = ? ORDER BY rowid')
        .all(itemId) as EventRow[];
      return rows.map(toEvent);
    });
  }

  failAbandoned(isOwnerAlive: (item: EvidenceItem) => boolean): Promise<string[]> {
    return this.#get(() =>
      this.#db.transaction(() => {
        const rows = this.#db
          .prepare("SELECT * FROM evidence_items WHERE status = 'acquiring'")
          .all() as ItemRow[];
        const failed: string[] = [];
        for (const item of rows.map(toItem)) {
          if (isOwnerAlive(item)) continue;
          this.#db
            .prepare(
              "UPDATE evidence_items SET status = 'failed', failure = ? WHERE id = ? AND status = 'acquiring'",
            )
            .run('abandoned: its acquiring process ended before completing it', item.id);
          failed.push(item.id);
        }
        return failed;
      })(),
    );
  }

  referencedBlobs(): Promise<Set<string>> {
    return this.#get(() => {
      const rows = this.#db
        .prepare(
          `SELECT sha256 FROM item_blobs UNION SELECT result_sha256 FROM analyses
           UNION SELECT sha256 FROM reports`,
        )
        .all() as {
        sha256: string;
      }[];
      return new Set(rows.map((row) => row.sha256));
    });
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #item(id: string): EvidenceItem | undefined {
    const row = this.#db.prepare('SELECT * FROM evidence_items WHERE id = ?').get(id) as
      ItemRow | undefined;
    return row === undefined ? undefined : toItem(row);
  }

  #requireNew(id: string): void {
    if (this.#item(id) !== undefined) {
      throw new VmsightError('INVALID_ARGUMENT', `Cannot add item "${id}": the id is taken`);
    }
  }

  #requireCase(caseId: string): void {
    if (this.#db.prepare('SELECT 1 FROM cases WHERE id = ?').get(caseId) === undefined) {
      throw new VmsightError('NOT_FOUND', `Cannot add an item to case "${caseId}": no such case`);
    }
  }

  #insertItem(item: EvidenceItem): void {
    this.#db
      .prepare(
        `INSERT INTO evidence_items (id, case_id, kind, status, origin, subject, created_at,
           completed_at, owner_pid, owner_host, image_sha256, image_size, failure)
         VALUES (@id, @caseId, @kind, @status, @origin, @subject, @createdAt, @completedAt,
           @ownerPid, @ownerHost, @imageSha256, @imageSize, @failure)`,
      )
      .run({
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

  #insertBlobs(itemId: string, blobs: readonly ItemBlob[]): void {
    const insert = this.#db.prepare(
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

  #insertEvents(events: readonly CustodyEvent[]): void {
    const insert = this.#db.prepare(
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

  #run(action: () => void): Promise<void> {
    return this.#get(action);
  }

  #get<T>(action: () => T): Promise<T> {
    try {
      return Promise.resolve(action());
    } catch (error) {
      if (error instanceof VmsightError) return Promise.reject(error);
      return Promise.reject(
        new VmsightError(
          'IO_ERROR',
          `Evidence database "${this.path}" failed: ${(error as Error).message}`,
          { cause: error, details: { path: this.path } },
        ),
      );
    }
  }
}
