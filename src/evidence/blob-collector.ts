import type { BlobStore } from './blob-store.js';
import type { EvidenceStore } from './evidence-store.js';

export interface CollectOptions {
  /**
   * Blobs younger than this are kept even when unreferenced: an acquisition, import or analysis
   * stores its blobs before the transaction that references them. Default one hour.
   */
  readonly graceMs?: number;
  /** Only report what would be removed. */
  readonly dryRun?: boolean;
  readonly now?: number;
}

export interface CollectResult {
  readonly removed: readonly { readonly sha256: string; readonly size: number }[];
  readonly bytes: number;
  readonly kept: number;
}

/**
 * Removes blobs no item, analysis or report references: what a crash (or `kill -9`) between
 * storing a blob and the transaction that records it leaves behind. Referenced blobs are never
 * touched; recent unreferenced ones are kept for `graceMs` (they may belong to a run in progress,
 * perhaps in another process).
 */
export async function collectUnreferencedBlobs(
  store: EvidenceStore,
  blobs: BlobStore,
  options: CollectOptions = {},
): Promise<CollectResult> {
  const cutoff = (options.now ?? Date.now()) - (options.graceMs ?? 3_600_000);
  const listed = await blobs.list();
  // Read the references after listing: a blob committed in between is young, hence kept.
  const referenced = await store.referencedBlobs();
  const removed: { sha256: string; size: number }[] = [];
  let kept = 0;
  for (const blob of listed) {
    if (referenced.has(blob.sha256) || blob.modifiedMs > cutoff) {
      kept += 1;
      continue;
    }
    if (options.dryRun !== true) await blobs.remove(blob.sha256);
    removed.push({ sha256: blob.sha256, size: blob.size });
  }
  return { removed, bytes: removed.reduce((sum, b) => sum + b.size, 0), kept };
}
