import Database from 'better-sqlite3';
import { VmsightError } from '../core/index.js';
import { migrate, schemaVersion } from './_schema-migrations.js';
import { insertBlobs, selectBlobs, selectReferencedBlobs } from './_sqlite-blob-queries.js';
import { insertEvents, selectEvents, selectLastEvent } from './_sqlite-custody-queries.js';
import {
  hasCase,
  insertCase,
  insertItem,
  markAcquiringItemFailed,
  markItemComplete,
  markItemFailed,
  selectAcquiringItems,
  selectCase,
  selectItem,
  selectItems,
} from './_sqlite-item-queries.js';
import {
  insertAnalyses,
  insertReport,
  selectAnalyses,
  selectReports,
} from './_sqlite-work-product-queries.js';
import * as rules from './_store-rules.js';
import type { CaseRecord, CustodyEvent, EvidenceItem, ItemBlob } from './evidence-records.js';
import type { EvidenceStore, ItemCompletion, ItemFilter } from './evidence-store.js';
import type { AnalysisRecord, ReportRecord } from './work-products.js';

/**
 * The `EvidenceStore` on disk: SQLite through better-sqlite3, in WAL mode with `synchronous=FULL`
 * so that a committed transaction survives a crash or power loss, and with foreign keys on.
 * The schema is in _schema-migrations.ts, the statements in _sqlite-*-queries.ts; this class
 * holds the connection, the transactions and the store rules (_store-rules.ts).
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
  readonly #lookups: rules.ItemLookups;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
    this.#lookups = {
      hasItem: (id) => selectItem(db, id) !== undefined,
      hasCase: (caseId) => hasCase(db, caseId),
    };
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
      migrate(db, path);
    } catch (error) {
      db.close();
      throw error;
    }
    return store;
  }

  /** The schema version after opening. */
  get schemaVersion(): number {
    return schemaVersion(this.#db);
  }

  /** SQLite's own consistency check (`PRAGMA integrity_check`): "ok" when sound. */
  integrityCheck(): string {
    return (this.#db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
  }

  ensureCase(record: CaseRecord): Promise<void> {
    return this.#run(() => insertCase(this.#db, record));
  }

  getCase(id: string): Promise<CaseRecord | undefined> {
    return this.#get(() => selectCase(this.#db, id));
  }

  beginItem(item: EvidenceItem): Promise<void> {
    return this.#transaction(() => {
      rules.checkNewItem(item, this.#lookups);
      insertItem(this.#db, { ...item, status: 'acquiring' });
    });
  }

  completeItem(completion: ItemCompletion): Promise<void> {
    return this.#transaction(() => {
      const { itemId } = completion;
      rules.requireStatus(selectItem(this.#db, itemId), itemId, 'acquiring', 'complete');
      rules.checkEventsContinue(itemId, undefined, completion.events);
      insertBlobs(this.#db, itemId, completion.blobs);
      insertEvents(this.#db, completion.events);
      markItemComplete(this.#db, completion);
    });
  }

  failItem(itemId: string, failure: string): Promise<void> {
    return this.#transaction(() => {
      rules.requireStatus(selectItem(this.#db, itemId), itemId, 'acquiring', 'fail');
      markItemFailed(this.#db, itemId, failure);
    });
  }

  addCompleteItem(
    item: EvidenceItem,
    blobs: readonly ItemBlob[],
    events: readonly CustodyEvent[],
  ): Promise<void> {
    return this.#transaction(() => {
      rules.checkCompleteItem(item, events, this.#lookups);
      insertItem(this.#db, { ...item, status: 'complete' });
      insertBlobs(this.#db, item.id, blobs);
      insertEvents(this.#db, events);
    });
  }

  appendEvents(itemId: string, events: readonly CustodyEvent[]): Promise<void> {
    return this.#transaction(() => {
      this.#appendChecked(itemId, events, 'append custody events to');
    });
  }

  /** Inside a transaction: the `appendEvents` rules, then the insert. */
  #appendChecked(itemId: string, list: readonly CustodyEvent[], doing: string): void {
    rules.requireStatus(selectItem(this.#db, itemId), itemId, 'complete', doing);
    rules.checkEventsContinue(itemId, selectLastEvent(this.#db, itemId), list);
    insertEvents(this.#db, list);
  }

  recordAnalyses(
    itemId: string,
    records: readonly AnalysisRecord[],
    event: CustodyEvent,
  ): Promise<void> {
    return this.#transaction(() => {
      rules.checkRecordsOf(itemId, records);
      this.#appendChecked(itemId, [event], 'record an analysis of');
      insertAnalyses(this.#db, records);
    });
  }

  listAnalyses(itemId: string): Promise<AnalysisRecord[]> {
    return this.#get(() => selectAnalyses(this.#db, itemId));
  }

  recordReport(record: ReportRecord, event: CustodyEvent): Promise<void> {
    return this.#transaction(() => {
      this.#appendChecked(record.itemId, [event], 'record a report of');
      insertReport(this.#db, record);
    });
  }

  listReports(itemId: string): Promise<ReportRecord[]> {
    return this.#get(() => selectReports(this.#db, itemId));
  }

  getItem(id: string): Promise<EvidenceItem | undefined> {
    return this.#get(() => selectItem(this.#db, id));
  }

  listItems(filter: ItemFilter = {}): Promise<EvidenceItem[]> {
    return this.#get(() => selectItems(this.#db, filter));
  }

  getBlobs(itemId: string): Promise<ItemBlob[]> {
    return this.#get(() => selectBlobs(this.#db, itemId));
  }

  getEvents(itemId: string): Promise<CustodyEvent[]> {
    return this.#get(() => selectEvents(this.#db, itemId));
  }

  failAbandoned(isOwnerAlive: (item: EvidenceItem) => boolean): Promise<string[]> {
    return this.#get(() =>
      this.#db.transaction(() => {
        const failed: string[] = [];
        for (const item of selectAcquiringItems(this.#db)) {
          if (isOwnerAlive(item)) continue;
          markAcquiringItemFailed(this.#db, item.id, rules.ABANDONED_FAILURE);
          failed.push(item.id);
        }
        return failed;
      })(),
    );
  }

  referencedBlobs(): Promise<Set<string>> {
    return this.#get(() => selectReferencedBlobs(this.#db));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  /** `action` in one SQLite transaction: all of its writes, or none. */
  #transaction(action: () => void): Promise<void> {
    return this.#run(() => {
      this.#db.transaction(action)();
    });
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
