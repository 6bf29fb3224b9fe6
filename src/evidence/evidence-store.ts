import type {
  CaseRecord,
  CustodyEvent,
  EvidenceItem,
  ItemBlob,
  ItemStatus,
} from './evidence-records.js';
import type { AnalysisRecord, ReportRecord } from './work-products.js';

/** Everything that turns an `acquiring` item `complete`, written in one transaction. */
export interface ItemCompletion {
  readonly itemId: string;
  readonly completedAt: string;
  readonly imageSha256: string;
  readonly imageSize: number;
  readonly blobs: readonly ItemBlob[];
  /** The item's first custody events (seq 1…). */
  readonly events: readonly CustodyEvent[];
}

export interface ItemFilter {
  readonly caseId?: string;
  readonly status?: ItemStatus;
}

/**
 * Evidence metadata and the custody log (the seam of STYLE.md habit 4: SQLite and in-memory
 * implementations, one contract suite, `evidence-store.contract.test.ts`).
 *
 * Contract:
 * - An item is `complete` only through `completeItem` or `addCompleteItem`, each atomic with its
 *   blobs and first custody events, so a crash leaves either nothing or everything.
 * - Custody events are append-only; `appendEvents` accepts only events whose `seq` continues the
 *   item's log and whose `prevHash` is the last event's `hash`, and only for complete items.
 * - Reads return copies; mutating them changes nothing stored.
 * - Blob bytes are not here: they live in the `BlobStore`, addressed by `ItemBlob.sha256`.
 */
export interface EvidenceStore {
  /** Records a case unless one with that id exists. */
  ensureCase(record: CaseRecord): Promise<void>;
  getCase(id: string): Promise<CaseRecord | undefined>;
  /** Adds an item in status `acquiring`; `INVALID_ARGUMENT` when the id is taken. */
  beginItem(item: EvidenceItem): Promise<void>;
  /** `acquiring` → `complete`, with its blobs and first events, atomically. */
  completeItem(completion: ItemCompletion): Promise<void>;
  /** `acquiring` → `failed`. */
  failItem(itemId: string, failure: string): Promise<void>;
  /** Adds a complete item with its blobs and events in one transaction (imports). */
  addCompleteItem(
    item: EvidenceItem,
    blobs: readonly ItemBlob[],
    events: readonly CustodyEvent[],
  ): Promise<void>;
  /** Appends custody events to a complete item's log (see the contract above). */
  appendEvents(itemId: string, events: readonly CustodyEvent[]): Promise<void>;
  getItem(id: string): Promise<EvidenceItem | undefined>;
  listItems(filter?: ItemFilter): Promise<EvidenceItem[]>;
  getBlobs(itemId: string): Promise<ItemBlob[]>;
  /** The item's custody log in `seq` order, exactly as stored (verification reads this). */
  getEvents(itemId: string): Promise<CustodyEvent[]>;
  /**
   * Marks `failed` every `acquiring` item whose owner `isOwnerAlive` says is gone (a crashed or
   * killed acquisition) and returns their ids.
   */
  failAbandoned(isOwnerAlive: (item: EvidenceItem) => boolean): Promise<string[]>;
  /**
   * Stores one `analyze` run's records with its `analysed` custody event, atomically (the event
   * obeys the `appendEvents` rules; the item must be complete).
   */
  recordAnalyses(
    itemId: string,
    records: readonly AnalysisRecord[],
    event: CustodyEvent,
  ): Promise<void>;
  /** The item's analysis records, oldest run first. */
  listAnalyses(itemId: string): Promise<AnalysisRecord[]>;
  /** Stores a report's record with its `reported` custody event, atomically. */
  recordReport(record: ReportRecord, event: CustodyEvent): Promise<void>;
  listReports(itemId: string): Promise<ReportRecord[]>;
  /** Every blob hash referenced by any item (for cleaning unreferenced files). */
  referencedBlobs(): Promise<Set<string>>;
  close(): void;
}
