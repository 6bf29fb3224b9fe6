import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecompressStream } from 'zstd-napi';
import { VmsightError, type ProgressListener } from '../core/index.js';
import type { BlobStore } from './blob-store.js';
import { isJsonObject, type JsonValue } from './canonical-json.js';
import { custodySignatureValid, hashCustodyBody } from './custody-event.js';
import {
  GENESIS_HASH,
  type BlobRole,
  type CustodyEvent,
  type EvidenceItem,
  type ItemBlob,
} from './evidence-records.js';
import type { EvidenceStore } from './evidence-store.js';
import { HashMeter } from './hashing-compressor.js';
import { keyFingerprint } from './raw-keys.js';

/** The first thing that did not match, named so a person can find it. */
export interface VerificationProblem {
  /** `item "ev-…"`, `custody event #3 (exported)`, `blob memory-image (sha256 1f2e…)`. */
  readonly subject: string;
  readonly reason: string;
}

export interface VerificationReport {
  readonly itemId: string;
  readonly ok: boolean;
  readonly eventsChecked: number;
  readonly blobsChecked: number;
  /** Blobs the signed log lists that the sender withheld (a pseudonymised bundle's identity). */
  readonly withheld: readonly BlobRole[];
  /** Everyone who signed the log, in order of first appearance. */
  readonly signers: readonly { readonly name: string; readonly fingerprint: string }[];
  readonly problem?: VerificationProblem;
}

export interface VerifyOptions {
  readonly onProgress?: ProgressListener;
  /**
   * Signing keys (raw, base64url) accepted as signers. Without it any valid signature passes,
   * which proves integrity but not who signed: someone able to edit the database could re-sign
   * an altered log with a key of their own.
   */
  readonly trustedKeys?: ReadonlySet<string>;
}

const eventName = (event: CustodyEvent, position: number): string =>
  `custody event #${Number.isInteger(event.seq) ? event.seq : position} (${event.action})`;

/** The blob list an event signed, as `ItemBlob`s, or undefined when the event lists none. */
export function signedBlobs(event: CustodyEvent): ItemBlob[] | undefined {
  const list = event.details['blobs'];
  if (!Array.isArray(list)) return undefined;
  return (list as JsonValue[]).filter(isJsonObject).map((entry) => ({
    role: entry['role'] as BlobRole,
    sha256: typeof entry['sha256'] === 'string' ? entry['sha256'] : '',
    size: Number(entry['size']),
    encoding: entry['encoding'] === 'zstd' ? 'zstd' : 'none',
    contentSha256: typeof entry['contentSha256'] === 'string' ? entry['contentSha256'] : '',
    contentSize: Number(entry['contentSize']),
  }));
}

function sameBlob(a: ItemBlob, b: ItemBlob): boolean {
  return (
    a.role === b.role &&
    a.sha256 === b.sha256 &&
    a.size === b.size &&
    a.encoding === b.encoding &&
    a.contentSha256 === b.contentSha256 &&
    a.contentSize === b.contentSize
  );
}

/** Checks the custody chain: order, links, hashes, signatures. Returns the first problem. */
export function checkCustodyChain(
  itemId: string,
  events: readonly CustodyEvent[],
  trustedKeys?: ReadonlySet<string>,
): VerificationProblem | undefined {
  if (events.length === 0) {
    return { subject: `item "${itemId}"`, reason: 'it has no custody events' };
  }
  let prevHash = GENESIS_HASH;
  for (const [index, event] of events.entries()) {
    const subject = eventName(event, index + 1);
    if (event.seq !== index + 1) {
      return {
        subject,
        reason: `it is at position ${index + 1} of the log: events are missing, added or reordered`,
      };
    }
    if (event.itemId !== itemId) {
      return { subject, reason: `it belongs to item "${event.itemId}"` };
    }
    if (hashCustodyBody(event) !== event.hash) {
      return { subject, reason: 'its content does not match its hash: it was edited' };
    }
    if (event.prevHash !== prevHash) {
      return {
        subject,
        reason: `its previous hash is not the hash of event #${index}: the chain is broken`,
      };
    }
    if (!custodySignatureValid(event)) {
      return {
        subject,
        reason: `its signature is not a valid signature by "${event.actor.name}" (key ${keyFingerprint(event.actor.signingKey)})`,
      };
    }
    if (trustedKeys !== undefined && !trustedKeys.has(event.actor.signingKey)) {
      return {
        subject,
        reason: `it is signed by "${event.actor.name}" with key ${keyFingerprint(event.actor.signingKey)}, which this key store does not trust`,
      };
    }
    prevHash = event.hash;
  }
  if (events[0]?.action !== 'acquired') {
    return {
      subject: eventName(events[0] as CustodyEvent, 1),
      reason: 'the log does not start with "acquired"',
    };
  }
  return undefined;
}

/** Roles withheld by the sender, as the receiving party recorded (and signed) them. */
function withheldRoles(events: readonly CustodyEvent[]): BlobRole[] {
  const roles = new Set<BlobRole>();
  for (const event of events) {
    const list = event.action === 'received' ? event.details['withheld'] : undefined;
    if (Array.isArray(list)) for (const role of list) roles.add(role as BlobRole);
  }
  return [...roles];
}

/** Re-hashes one stored blob (and its decompressed content). Returns the first mismatch. */
async function checkBlobBytes(
  blobs: BlobStore,
  blob: ItemBlob,
  onBytes: (n: number) => void,
): Promise<string | undefined> {
  if (!(await blobs.has(blob.sha256))) return 'its file is missing from the blob store';
  const stored = new HashMeter();
  const content = new HashMeter(onBytes);
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  try {
    if (blob.encoding === 'zstd') {
      await pipeline(
        await blobs.openRead(blob.sha256),
        stored,
        new DecompressStream(),
        content,
        sink,
      );
    } else {
      await pipeline(await blobs.openRead(blob.sha256), stored, content, sink);
    }
  } catch (error) {
    return `its bytes cannot be read or decompressed: ${(error as Error).message}`;
  }
  if (stored.sha256 !== blob.sha256 || stored.bytes !== blob.size) {
    return `its stored bytes hash to ${stored.sha256} (${stored.bytes} bytes): the file was altered`;
  }
  if (content.sha256 !== blob.contentSha256 || content.bytes !== blob.contentSize) {
    return `its content hashes to ${content.sha256} (${content.bytes} bytes), not ${blob.contentSha256}`;
  }
  return undefined;
}

/**
 * `vmsight evidence verify`: recomputes every custody hash, checks the chain and every Ed25519
 * signature, checks that the item's database rows match what the log signed, and re-hashes every
 * blob (stored bytes and decompressed content). Stops at the first mismatch and names it.
 *
 * @example
 * ```ts
 * import { verifyItem } from './evidence-verifier.js';
 * const report = await verifyItem(store, blobs, 'ev-20261122-1a2b');
 * if (!report.ok) console.log(`${report.problem?.subject}: ${report.problem?.reason}`);
 * ```
 */
export async function verifyItem(
  store: EvidenceStore,
  blobs: BlobStore,
  itemId: string,
  options: VerifyOptions = {},
): Promise<VerificationReport> {
  const item = await store.getItem(itemId);
  if (item === undefined) {
    throw new VmsightError('NOT_FOUND', `Evidence item "${itemId}" does not exist`, {
      details: { itemId },
    });
  }
  const events = await store.getEvents(itemId);
  const signers = new Map<string, { name: string; fingerprint: string }>();
  for (const event of events) {
    signers.set(event.actor.signingKey, {
      name: event.actor.name,
      fingerprint: keyFingerprint(event.actor.signingKey),
    });
  }
  const withheld = withheldRoles(events);
  const base = { itemId, withheld, signers: [...signers.values()] };
  const fail = (problem: VerificationProblem, eventsChecked: number, blobsChecked: number) => ({
    ...base,
    ok: false,
    eventsChecked,
    blobsChecked,
    problem,
  });
  if (item.status !== 'complete') {
    return fail(
      { subject: `item "${itemId}"`, reason: `it is ${item.status}, not complete` },
      0,
      0,
    );
  }
  const chainProblem = checkCustodyChain(itemId, events, options.trustedKeys);
  if (chainProblem !== undefined) return fail(chainProblem, events.length, 0);

  const rowProblem = checkRowsAgainstLog(item, events, await store.getBlobs(itemId), withheld);
  if (rowProblem !== undefined) return fail(rowProblem, events.length, 0);

  const present = (await store.getBlobs(itemId)).filter((blob) => !withheld.includes(blob.role));
  const total = present.reduce((sum, blob) => sum + blob.contentSize, 0);
  let before = 0;
  for (const [index, blob] of present.entries()) {
    const reason = await checkBlobBytes(blobs, blob, (n) =>
      options.onProgress?.({ label: 'verify', done: before + n, total }),
    );
    if (reason !== undefined) {
      return fail(
        { subject: `blob ${blob.role} (sha256 ${blob.sha256.slice(0, 16)}…)`, reason },
        events.length,
        index,
      );
    }
    before += blob.contentSize;
  }
  return { ...base, ok: true, eventsChecked: events.length, blobsChecked: present.length };
}

/** The database rows (item, blobs) must say what the signed log says. */
function checkRowsAgainstLog(
  item: EvidenceItem,
  events: readonly CustodyEvent[],
  rows: readonly ItemBlob[],
  withheld: readonly BlobRole[],
): VerificationProblem | undefined {
  const stored = events.find((event) => event.action === 'stored');
  const signed = stored === undefined ? undefined : signedBlobs(stored);
  if (stored === undefined || signed === undefined) {
    return {
      subject: `item "${item.id}"`,
      reason: 'its custody log has no "stored" event listing its blobs',
    };
  }
  for (const blob of signed) {
    const row = rows.find((candidate) => candidate.role === blob.role);
    if (row === undefined) {
      if (withheld.includes(blob.role)) continue;
      return {
        subject: `blob ${blob.role}`,
        reason: `its row is missing, but custody event #${stored.seq} lists it`,
      };
    }
    if (!sameBlob(row, blob)) {
      return {
        subject: `blob ${blob.role} (sha256 ${row.sha256.slice(0, 16)}…)`,
        reason: `its row does not match what custody event #${stored.seq} signed: the database was edited`,
      };
    }
  }
  for (const row of rows) {
    if (!signed.some((blob) => blob.role === row.role)) {
      return { subject: `blob ${row.role}`, reason: 'it is not in the signed custody log' };
    }
  }
  const image = signed.find((blob) => blob.role === 'memory-image');
  if (
    image !== undefined &&
    (item.imageSha256 !== image.contentSha256 || item.imageSize !== image.contentSize)
  ) {
    return {
      subject: `item "${item.id}"`,
      reason: `its image hash ${item.imageSha256 ?? 'none'} is not the signed ${image.contentSha256}: the database was edited`,
    };
  }
  return undefined;
}
