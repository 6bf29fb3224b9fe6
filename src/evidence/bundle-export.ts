import { rename, rm } from 'node:fs/promises';
import { VmsightError, type ProgressListener } from '../core/index.js';
import { signManifest, type BundleManifest } from './bundle-manifest.js';
import { writeBundle } from './bundle-writer.js';
import { BlobRole } from './evidence-records.js';
import { verifyItem } from './evidence-verifier.js';
import { keyFingerprint } from './raw-keys.js';
import { requireItem, signNextEvent, trustedKeys, type LockerContext } from './_locker-context.js';

export interface ExportOptions {
  /** The analyst's X25519 public key (raw, base64url). */
  readonly recipientKey: string;
  readonly output: string;
  readonly pseudonymise?: boolean;
  readonly reason?: string;
  readonly onProgress?: ProgressListener;
}

export interface ExportResult {
  readonly itemId: string;
  readonly output: string;
  readonly sha256: string;
  readonly size: number;
  readonly recipient: string;
  readonly withheld: readonly BlobRole[];
}

/**
 * Seals a verified item for an analyst (`EvidenceLocker.export`): the `exported` custody event,
 * a manifest signed by this party, the blobs, all encrypted to the analyst's X25519 key.
 */
export async function exportBundle(
  ctx: LockerContext,
  itemId: string,
  options: ExportOptions,
): Promise<ExportResult> {
  const report = await verifyItem(ctx.store, ctx.blobs, itemId, {
    trustedKeys: await trustedKeys(ctx.keys),
  });
  if (!report.ok) {
    throw new VmsightError(
      'INVALID_INPUT',
      `Cannot export item "${itemId}": it does not verify: ${report.problem?.subject}: ${report.problem?.reason}`,
      { details: { itemId } },
    );
  }
  const item = await requireItem(ctx.store, itemId);
  const allBlobs = await ctx.store.getBlobs(itemId);
  const events = await ctx.store.getEvents(itemId);
  const pseudonymise = options.pseudonymise === true;
  const withheld: BlobRole[] = [
    ...new Set<BlobRole>([...report.withheld, ...(pseudonymise ? [BlobRole.VM_IDENTITY] : [])]),
  ];
  const blobs = allBlobs.filter((blob) => !withheld.includes(blob.role));
  const last = events.at(-1);
  if (last === undefined) {
    throw new VmsightError('INTERNAL', `Item "${itemId}" verified without custody events`);
  }
  const exported = signNextEvent(ctx, last, {
    itemId,
    action: 'exported',
    reason: options.reason ?? '',
    details: {
      recipient: {
        encryptionKey: options.recipientKey,
        fingerprint: keyFingerprint(options.recipientKey),
      },
      pseudonymised: pseudonymise,
      withheld,
      blobs: blobs.map((blob) => blob.role),
    },
  });
  const manifest: BundleManifest = {
    format: 'vmsight-bundle',
    version: 1,
    createdAt: exported.at,
    sender: { name: ctx.keys.identity.name, signingKey: ctx.keys.identity.signingKey },
    recipient: { encryptionKey: options.recipientKey },
    caseId: pseudonymise ? ctx.keys.pseudonym('case', item.caseId) : item.caseId,
    item: {
      id: item.id,
      kind: item.kind,
      subject: pseudonymise ? ctx.keys.pseudonym('subject', item.subject) : item.subject,
      createdAt: item.createdAt,
      imageSha256: item.imageSha256 ?? '',
      imageSize: item.imageSize ?? 0,
    },
    pseudonymised: pseudonymise,
    blobs,
    withheld,
    custody: [...events, exported],
  };
  const { json, signature } = signManifest(ctx.keys, manifest);
  const temp = `${options.output}.part-${process.pid}`;
  const total = blobs.reduce((sum, blob) => sum + blob.size, 0);
  try {
    const written = await writeBundle(
      temp,
      options.recipientKey,
      {
        manifest: json,
        signature,
        parts: blobs.map((blob) => ({
          size: blob.size,
          open: () => ctx.blobs.openRead(blob.sha256),
        })),
      },
      { onBytes: (done) => options.onProgress?.({ label: 'export', done, total }) },
    );
    // The event is recorded before the bundle gets its final name: a crash in between leaves a
    // recorded export and a `.part` file, never a bundle whose export the log does not show.
    await ctx.store.appendEvents(itemId, [exported]);
    await rename(temp, options.output);
    return {
      itemId,
      output: options.output,
      sha256: written.sha256,
      size: written.size,
      recipient: keyFingerprint(options.recipientKey),
      withheld,
    };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
