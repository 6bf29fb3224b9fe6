import { VmsightError } from '../core/index.js';
import { GENESIS_HASH, type CustodyEvent, type EvidenceItem } from './evidence-records.js';

/**
 * The append rules both `EvidenceStore` implementations enforce, so that neither can store a
 * custody log with a gap, a fork or a foreign event.
 */
export function checkEventsContinue(
  itemId: string,
  last: Pick<CustodyEvent, 'seq' | 'hash'> | undefined,
  events: readonly CustodyEvent[],
): void {
  let seq = last?.seq ?? 0;
  let hash = last?.hash ?? GENESIS_HASH;
  for (const event of events) {
    if (event.itemId !== itemId) {
      throw new VmsightError(
        'INVALID_ARGUMENT',
        `Cannot append a custody event of item "${event.itemId}" to item "${itemId}"`,
      );
    }
    if (event.seq !== seq + 1) {
      throw new VmsightError(
        'INVALID_ARGUMENT',
        `Cannot append custody event #${event.seq} to item "${itemId}": the next is #${seq + 1}`,
      );
    }
    if (event.prevHash !== hash) {
      throw new VmsightError(
        'INVALID_ARGUMENT',
        `Cannot append custody event #${event.seq} to item "${itemId}": its previous hash is not the hash of event #${seq}`,
      );
    }
    seq = event.seq;
    hash = event.hash;
  }
}

export function requireStatus(
  item: EvidenceItem | undefined,
  itemId: string,
  status: EvidenceItem['status'],
  doing: string,
): EvidenceItem {
  if (item === undefined) {
    throw new VmsightError('NOT_FOUND', `Cannot ${doing} item "${itemId}": it does not exist`, {
      details: { itemId },
    });
  }
  if (item.status !== status) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot ${doing} item "${itemId}": it is ${item.status}, not ${status}`,
      { details: { itemId, status: item.status } },
    );
  }
  return item;
}

/** Work-product records must all belong to the item they are recorded under. */
export function checkRecordsOf(
  itemId: string,
  records: readonly { readonly itemId: string }[],
): void {
  const foreign = records.find((record) => record.itemId !== itemId);
  if (foreign !== undefined) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot record an analysis of item "${foreign.itemId}" under item "${itemId}"`,
    );
  }
}

/** The failure `failAbandoned` records on an item whose acquiring process is gone. */
export const ABANDONED_FAILURE = 'abandoned: its acquiring process ended before completing it';

/** How a store answers the existence questions `checkNewItem` asks, inside its transaction. */
export interface ItemLookups {
  readonly hasItem: (id: string) => boolean;
  readonly hasCase: (caseId: string) => boolean;
}

/** An item may be added (`beginItem`) only under a fresh id and into an existing case. */
export function checkNewItem(
  item: Pick<EvidenceItem, 'id' | 'caseId'>,
  lookups: ItemLookups,
): void {
  if (lookups.hasItem(item.id)) {
    throw new VmsightError('INVALID_ARGUMENT', `Cannot add item "${item.id}": the id is taken`);
  }
  if (!lookups.hasCase(item.caseId)) {
    throw new VmsightError(
      'NOT_FOUND',
      `Cannot add an item to case "${item.caseId}": no such case`,
    );
  }
}

/** `addCompleteItem`: the `checkNewItem` rules, and events that start the item's custody log. */
export function checkCompleteItem(
  item: Pick<EvidenceItem, 'id' | 'caseId'>,
  events: readonly CustodyEvent[],
  lookups: ItemLookups,
): void {
  checkNewItem(item, lookups);
  checkEventsContinue(item.id, undefined, events);
}
