import { checkExpectedSender, type ExpectedSender } from './expected-sender.js';
import { VmsightError, type ProgressListener } from '../core/index.js';
import { openManifest, type BundleManifest } from './bundle-manifest.js';
import { ByteCursor, MAX_MANIFEST_BYTES, openBundle } from './bundle-reader.js';
import { canonicalJson } from './canonical-json.js';
import { BlobRole, type CustodyEvent } from './evidence-records.js';
import { checkCustodyChain, signedBlobs } from './evidence-verifier.js';
import type { KeyStore } from './key-store.js';
import { keyFingerprint } from './raw-keys.js';
import { storeReceivedBlob } from './received-blob.js';
import { blobJson, checkId, signNextEvent, type LockerContext } from './_locker-context.js';

const MAX_SIGNATURE_BYTES = 1024;

export interface ImportResult {
  readonly itemId: string;
  readonly caseId: string;
  readonly subject: string;
  readonly sender: { readonly name: string; readonly fingerprint: string };
  readonly bundleSha256: string;
  readonly withheld: readonly BlobRole[];
}

export interface ImportOptions {
  readonly reason?: string;
  readonly onProgress?: ProgressListener;
  /** Refuse the bundle unless this provider signed it (expected-sender.ts). */
  readonly expectSender?: ExpectedSender;
}

/**
 * Opens a bundle sent to this party (`EvidenceLocker.import`): decrypts it chunk by chunk, checks
 * the manifest signature, the custody chain and every blob hash before anything is recorded, then
 * records the item and a signed `received` event in one transaction.
 */
export async function importBundle(
  ctx: LockerContext,
  path: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const bundle = await openBundle(path, ctx.keys.identity.encryptionKey, (peer) =>
    ctx.keys.agree(peer),
  );
  try {
    const source = `Bundle "${path}"`;
    const cursor = new ByteCursor(bundle.plaintext, source);
    const manifestLength = (await cursor.readExact(4)).readUInt32BE();
    if (manifestLength > MAX_MANIFEST_BYTES) {
      throw new VmsightError(
        'LIMIT_EXCEEDED',
        `${source}: the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`,
      );
    }
    const json = (await cursor.readExact(manifestLength)).toString('utf8');
    const signatureLength = (await cursor.readExact(4)).readUInt32BE();
    if (signatureLength > MAX_SIGNATURE_BYTES) {
      throw new VmsightError('LIMIT_EXCEEDED', `${source}: the manifest signature is oversized`);
    }
    const signature = (await cursor.readExact(signatureLength)).toString('latin1');
    const manifest = openManifest(json, signature, source);
    checkManifest(ctx.keys, manifest, source);
    checkExpectedSender(options.expectSender, manifest.sender.signingKey, source);
    const itemId = manifest.item.id;
    if ((await ctx.store.getItem(itemId)) !== undefined) {
      throw new VmsightError(
        'INVALID_ARGUMENT',
        `${source}: item "${itemId}" is already in this evidence store`,
      );
    }
    const total = manifest.blobs.reduce((sum, blob) => sum + blob.size, 0);
    let before = 0;
    for (const blob of manifest.blobs) {
      const pieces = cursor.take(blob.size);
      const counted = async function* (): AsyncGenerator<Buffer> {
        let done = 0;
        for await (const piece of pieces) {
          done += piece.length;
          options.onProgress?.({ label: 'import', done: before + done, total });
          yield piece;
        }
      };
      await storeReceivedBlob(ctx.blobs, counted(), blob, itemId);
      before += blob.size;
    }
    if (!(await cursor.atEnd())) {
      throw new VmsightError('INVALID_INPUT', `${source}: there are bytes after the last blob`);
    }
    const bundleSha256 = bundle.fileSha256();
    const last = manifest.custody.at(-1) as CustodyEvent;
    const received = signNextEvent(ctx, last, {
      itemId,
      action: 'received',
      reason: options.reason ?? '',
      details: {
        bundleSha256,
        sender: {
          name: manifest.sender.name,
          signingKey: manifest.sender.signingKey,
          fingerprint: keyFingerprint(manifest.sender.signingKey),
        },
        pseudonymised: manifest.pseudonymised,
        withheld: [...manifest.withheld],
      },
    });
    await ctx.store.ensureCase({ id: manifest.caseId, createdAt: received.at });
    await ctx.store.addCompleteItem(
      {
        id: itemId,
        caseId: manifest.caseId,
        kind: 'memory',
        status: 'complete',
        origin: 'imported',
        subject: manifest.item.subject,
        createdAt: manifest.item.createdAt,
        completedAt: received.at,
        ownerHost: ctx.host,
        imageSha256: manifest.item.imageSha256,
        imageSize: manifest.item.imageSize,
      },
      manifest.blobs,
      [...manifest.custody, received],
    );
    // Trust on first use: the signers of an accepted bundle are trusted for later verification;
    // `evidence import` prints the sender's fingerprint for the analyst to confirm out of band.
    const how = `signed bundle ${bundleSha256} from ${keyFingerprint(manifest.sender.signingKey)}`;
    for (const event of manifest.custody) await ctx.keys.trust(event.actor, how);
    return {
      itemId,
      caseId: manifest.caseId,
      subject: manifest.item.subject,
      sender: {
        name: manifest.sender.name,
        fingerprint: keyFingerprint(manifest.sender.signingKey),
      },
      bundleSha256,
      withheld: manifest.withheld,
    };
  } finally {
    await bundle.close();
  }
}

/** Every signature and hash in the manifest, before a byte of blob is accepted. */
function checkManifest(keys: KeyStore, manifest: BundleManifest, source: string): void {
  const itemId = String(manifest.item.id);
  checkId('item id', itemId);
  checkId('case id', String(manifest.caseId));
  const fail = (reason: string): never => {
    throw new VmsightError('INVALID_INPUT', `${source}, item "${itemId}": ${reason}`, {
      details: { itemId },
    });
  };
  if (manifest.recipient.encryptionKey !== keys.identity.encryptionKey) {
    fail('the manifest names another recipient');
  }
  const chainProblem = checkCustodyChain(itemId, manifest.custody);
  if (chainProblem !== undefined) fail(`${chainProblem.subject}: ${chainProblem.reason}`);
  const exported = manifest.custody.at(-1);
  if (exported?.action !== 'exported') fail('the custody log does not end with "exported"');
  if (exported?.actor.signingKey !== manifest.sender.signingKey) {
    fail('the export was not signed by the bundle sender');
  }
  const recipient = exported?.details['recipient'];
  if (
    typeof recipient !== 'object' ||
    recipient === null ||
    Array.isArray(recipient) ||
    (recipient as Record<string, unknown>)['encryptionKey'] !== keys.identity.encryptionKey
  ) {
    fail('the signed export names another recipient');
  }
  const storedEvent = manifest.custody.find((event) => event.action === 'stored');
  const signed = storedEvent === undefined ? undefined : signedBlobs(storedEvent);
  if (signed === undefined) return fail('the custody log has no "stored" event listing its blobs');
  for (const blob of manifest.blobs) {
    const match = signed.find((candidate) => candidate.role === blob.role);
    if (match === undefined || canonicalJson(blobJson(match)) !== canonicalJson(blobJson(blob))) {
      fail(`blob ${blob.role} is not the blob the custody log signed`);
    }
  }
  for (const blob of signed) {
    const inBundle = manifest.blobs.some((candidate) => candidate.role === blob.role);
    if (inBundle === manifest.withheld.includes(blob.role)) {
      fail(`blob ${blob.role} must be either in the bundle or listed as withheld`);
    }
  }
  const image = signed.find((blob) => blob.role === BlobRole.MEMORY_IMAGE);
  if (image === undefined || image.contentSha256 !== manifest.item.imageSha256) {
    fail('the manifest image hash is not the signed one');
  }
}
