import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { BlobStore } from './blob-store.js';
import { isJsonObject } from './canonical-json.js';
import type { CustodyEvent } from './evidence-records.js';
import type { EvidenceStore } from './evidence-store.js';
import type { VerificationProblem } from './evidence-verifier.js';
import { reportSignatureValid } from './report-signature.js';

/** Why a stored blob is not the one a record names (`what`: "blob", "copy"), if it is not. */
async function blobProblem(
  blobs: BlobStore,
  sha256: string,
  what: string,
): Promise<string | undefined> {
  if (!(await blobs.has(sha256))) return `its ${what} is missing`;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(blobs.pathOf(sha256), { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex') === sha256 ? undefined : `its ${what} does not match its hash`;
}

/** The `sha256` values an `analysed` event's `results` list signed, by plugin. */
function signedResults(events: readonly CustodyEvent[]): Set<string> {
  const signed = new Set<string>();
  for (const event of events) {
    if (event.action !== 'analysed') continue;
    const results = event.details['results'];
    if (!Array.isArray(results)) continue;
    for (const result of results) {
      if (!isJsonObject(result)) continue;
      const plugin = result['plugin'];
      const sha256 = result['sha256'];
      if (typeof plugin === 'string' && typeof sha256 === 'string')
        signed.add(`${plugin}\0${sha256}`);
    }
  }
  return signed;
}

/**
 * Checks an item's analyses and reports against its (already verified) custody log: each record's
 * hash must be one a signed event committed to, its blob must be present with that hash, and each
 * report's own signature must verify with the key of the actor who recorded it.
 */
export async function checkWorkProducts(
  store: EvidenceStore,
  blobs: BlobStore,
  itemId: string,
  events: readonly CustodyEvent[],
): Promise<{ problem?: VerificationProblem; checked: number }> {
  let checked = 0;
  const signed = signedResults(events);
  for (const record of await store.listAnalyses(itemId)) {
    const subject = `analysis result ${record.id}`;
    if (!signed.has(`${record.plugin}\0${record.resultSha256}`)) {
      return { checked, problem: { subject, reason: 'no analysed custody event signed its hash' } };
    }
    const reason = await blobProblem(blobs, record.resultSha256, 'blob');
    if (reason !== undefined) return { checked, problem: { subject, reason } };
    checked += 1;
  }
  for (const record of await store.listReports(itemId)) {
    const subject = `report ${record.id}`;
    const event = events.find(
      (e) => e.action === 'reported' && e.details['reportId'] === record.id,
    );
    if (event === undefined || event.details['sha256'] !== record.sha256) {
      return { checked, problem: { subject, reason: 'no reported custody event signed its hash' } };
    }
    if (
      event.actor.signingKey !== record.signerKey ||
      !reportSignatureValid(record.sha256, record.signature, record.signerKey)
    ) {
      return { checked, problem: { subject, reason: 'its signature does not verify' } };
    }
    const reason = await blobProblem(blobs, record.sha256, 'copy');
    if (reason !== undefined) return { checked, problem: { subject, reason } };
    checked += 1;
  }
  return { checked };
}
