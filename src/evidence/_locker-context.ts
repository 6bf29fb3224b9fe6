import { randomBytes } from 'node:crypto';
import { VmsightError } from '../core/index.js';
import type { JsonObject } from './canonical-json.js';
import { signCustodyEvent, type NewCustodyEvent } from './custody-event.js';
import type { BlobRole, CustodyEvent, EvidenceItem, ItemBlob } from './evidence-records.js';
import type { EvidenceStore } from './evidence-store.js';
import type { BlobStore } from './blob-store.js';
import type { StoredDigest } from './hashing-compressor.js';
import type { KeyStore } from './key-store.js';

/** What the locker's operations share: one party's stores, keys and host name. */
export interface LockerContext {
  readonly store: EvidenceStore;
  readonly blobs: BlobStore;
  readonly keys: KeyStore;
  /** "Where" in custody events. */
  readonly host: string;
}

export const DEFAULT_CASE = 'unassigned';

export function newItemId(now: Date): string {
  return stampedId('ev', now);
}

/** `<prefix>-<UTC time to the second>-<6 random hex digits>`: sortable and unique enough. */
export function stampedId(prefix: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${prefix}-${stamp}-${randomBytes(3).toString('hex')}`;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Ids become file names and table keys: and in bundles they are attacker-controlled. */
export function checkId(kind: string, id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new VmsightError(
      'INVALID_ARGUMENT',
      `Cannot use ${kind} "${id}": use up to 128 letters, digits, ".", "_", ":" or "-"`,
    );
  }
}

export const blobJson = (blob: ItemBlob): JsonObject => ({
  role: blob.role,
  sha256: blob.sha256,
  size: blob.size,
  encoding: blob.encoding,
  contentSha256: blob.contentSha256,
  contentSize: blob.contentSize,
});

export const toItemBlob = (
  role: BlobRole,
  digest: StoredDigest,
  encoding: ItemBlob['encoding'],
): ItemBlob => ({
  role,
  sha256: digest.sha256,
  size: digest.size,
  encoding,
  contentSha256: digest.contentSha256,
  contentSize: digest.contentSize,
});

export async function requireItem(store: EvidenceStore, itemId: string): Promise<EvidenceItem> {
  const item = await store.getItem(itemId);
  if (item === undefined) {
    throw new VmsightError('NOT_FOUND', `Evidence item "${itemId}" does not exist`, {
      details: { itemId },
    });
  }
  return item;
}

/** This party's own signing key and the keys it trusts (key-store.ts `trustedSigners`). */
export async function trustedKeys(keys: KeyStore): Promise<Set<string>> {
  const signers = await keys.trustedSigners();
  return new Set([keys.identity.signingKey, ...signers.map((signer) => signer.signingKey)]);
}

/** What `signNextEvent` needs besides the log's last event: the event's own fields. */
export type NextCustodyEvent = Omit<NewCustodyEvent, 'seq' | 'prevHash' | 'host'>;

/**
 * Signs, with this party's key and host, the event that continues a custody log after `last`
 * (the store's append rules: seq + 1, prevHash = the last hash). Not stored here.
 */
export function signNextEvent(
  ctx: Pick<LockerContext, 'keys' | 'host'>,
  last: Pick<CustodyEvent, 'seq' | 'hash'>,
  event: NextCustodyEvent,
): CustodyEvent {
  return signCustodyEvent(ctx.keys, {
    ...event,
    seq: last.seq + 1,
    prevHash: last.hash,
    host: ctx.host,
  });
}
