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
