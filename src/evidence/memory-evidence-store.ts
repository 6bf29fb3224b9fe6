import * as rules from './_store-rules.js';
import type { CaseRecord, CustodyEvent, EvidenceItem, ItemBlob } from './evidence-records.js';
import type { EvidenceStore, ItemCompletion, ItemFilter } from './evidence-store.js';
import type { AnalysisRecord, ReportRecord } from './work-products.js';

const copy = <T>(value: T): T => structuredClone(value);

/**
 * An `EvidenceStore` in process memory, for tests and for composing front ends without a disk.
 * Same contract as `SqliteEvidenceStore` (evidence-store.contract.test.ts).
 *
 * @example
 * ```ts
 * import { MemoryEvidenceStore } from './memory-evidence-store.js';
 * const store = new MemoryEvidenceStore();
 * await store.ensureCase({ id: 'case-1', createdAt: new Date().toISOString() });
 * ```
 */
export class MemoryEvidenceStore implements EvidenceStore {
  readonly #cases = new Map<string, CaseRecord>();
  readonly #items = new Map<string, EvidenceItem>();
  readonly #blobs = new Map<string, ItemBlob[]>();
  readonly #events = new Map<string, CustodyEvent[]>();
  readonly #analyses: AnalysisRecord[] = [];
  readonly #reports: ReportRecord[] = [];
  readonly #lookups: rules.ItemLookups = {
    hasItem: (id) => this.#items.has(id),
    hasCase: (caseId) => this.#cases.has(caseId),
  };

  ensureCase(record: CaseRecord): Promise<void> {
    if (!this.#cases.has(record.id)) this.#cases.set(record.id, copy(record));
    return Promise.resolve();
  }

  getCase(id: string): Promise<CaseRecord | undefined> {
    return Promise.resolve(copy(this.#cases.get(id)));
  }

  beginItem(item: EvidenceItem): Promise<void> {
    return this.#run(() => {
      rules.checkNewItem(item, this.#lookups);
      this.#items.set(item.id, copy({ ...item, status: 'acquiring' }));
    });
  }

  completeItem(completion: ItemCompletion): Promise<void> {
    return this.#run(() => {
      const item = rules.requireStatus(
        this.#items.get(completion.itemId),
        completion.itemId,
        'acquiring',
        'complete',
      );
      rules.checkEventsContinue(completion.itemId, undefined, completion.events);
      this.#items.set(item.id, {
        ...item,
        status: 'complete',
        completedAt: completion.completedAt,
        imageSha256: completion.imageSha256,
        imageSize: completion.imageSize,
      });
      this.#blobs.set(item.id, copy([...completion.blobs]));
      this.#events.set(item.id, copy([...completion.events]));
    });
  }

  failItem(itemId: string, failure: string): Promise<void> {
    return this.#run(() => {
      const item = rules.requireStatus(this.#items.get(itemId), itemId, 'acquiring', 'fail');
      this.#items.set(itemId, { ...item, status: 'failed', failure });
    });
  }

  addCompleteItem(
    item: EvidenceItem,
    blobs: readonly ItemBlob[],
    events: readonly CustodyEvent[],
  ): Promise<void> {
    return this.#run(() => {
      rules.checkCompleteItem(item, events, this.#lookups);
      this.#items.set(item.id, copy({ ...item, status: 'complete' }));
      this.#blobs.set(item.id, copy([...blobs]));
      this.#events.set(item.id, copy([...events]));
    });
  }

  appendEvents(itemId: string, events: readonly CustodyEvent[]): Promise<void> {
    return this.#run(() => {
      this.#append(itemId, events, 'append custody events to');
    });
  }

  #append(itemId: string, events: readonly CustodyEvent[], doing: string): void {
    rules.requireStatus(this.#items.get(itemId), itemId, 'complete', doing);
    const log = this.#events.get(itemId) ?? [];
    rules.checkEventsContinue(itemId, log.at(-1), events);
    this.#events.set(itemId, [...log, ...copy([...events])]);
  }

  recordAnalyses(
    itemId: string,
    records: readonly AnalysisRecord[],
    event: CustodyEvent,
  ): Promise<void> {
    return this.#run(() => {
      rules.checkRecordsOf(itemId, records);
      this.#append(itemId, [event], 'record an analysis of');
      this.#analyses.push(...copy([...records]));
    });
  }

  listAnalyses(itemId: string): Promise<AnalysisRecord[]> {
    return Promise.resolve(copy(this.#analyses.filter((record) => record.itemId === itemId)));
  }

  recordReport(record: ReportRecord, event: CustodyEvent): Promise<void> {
    return this.#run(() => {
      this.#append(record.itemId, [event], 'record a report of');
      this.#reports.push(copy(record));
    });
  }

  listReports(itemId: string): Promise<ReportRecord[]> {
    return Promise.resolve(copy(this.#reports.filter((record) => record.itemId === itemId)));
  }

  getItem(id: string): Promise<EvidenceItem | undefined> {
    return Promise.resolve(copy(this.#items.get(id)));
  }

  listItems(filter: ItemFilter = {}): Promise<EvidenceItem[]> {
    const items = [...this.#items.values()]
      .filter((item) => filter.caseId === undefined || item.caseId === filter.caseId)
      .filter((item) => filter.status === undefined || item.status === filter.status)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return Promise.resolve(copy(items));
  }

  getBlobs(itemId: string): Promise<ItemBlob[]> {
    return Promise.resolve(copy(this.#blobs.get(itemId) ?? []));
  }

  getEvents(itemId: string): Promise<CustodyEvent[]> {
    return Promise.resolve(copy(this.#events.get(itemId) ?? []));
  }

  failAbandoned(isOwnerAlive: (item: EvidenceItem) => boolean): Promise<string[]> {
    const failed: string[] = [];
    for (const item of this.#items.values()) {
      if (item.status === 'acquiring' && !isOwnerAlive(item)) {
        this.#items.set(item.id, {
          ...item,
          status: 'failed',
          failure: rules.ABANDONED_FAILURE,
        });
        failed.push(item.id);
      }
    }
    return Promise.resolve(failed);
  }

  referencedBlobs(): Promise<Set<string>> {
    const hashes = new Set<string>();
    for (const blobs of this.#blobs.values()) for (const blob of blobs) hashes.add(blob.sha256);
    for (const record of this.#analyses) hashes.add(record.resultSha256);
    for (const record of this.#reports) hashes.add(record.sha256);
    return Promise.resolve(hashes);
  }

  close(): void {
    // Nothing to release.
  }

  #run(action: () => void): Promise<void> {
    try {
      action();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
