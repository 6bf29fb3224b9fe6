/**
 * Public surface of `evidence`: acquisition into a content-addressed blob store, the SQLite
 * evidence database, signed hash-chained custody, sealed bundles for a third-party analyst.
 *
 * Seams for later work: `analyze` stores plugin results as `BlobRole.ANALYSIS` blobs and appends
 * an `analysed` custody event (`EvidenceStore.appendEvents` with `signCustodyEvent`);
 * `report` reads `EvidenceLocker.show()` (item, blobs, custody timeline, config) and records a
 * `reported` event. Both tables exist in the schema (analyses, reports).
 */
export { BlobStore, isProcessAlive, type BlobWriter } from './blob-store.js';
export { canonicalJson, isJsonObject, type JsonObject, type JsonValue } from './canonical-json.js';
export { custodySignatureValid, hashCustodyBody, signCustodyEvent } from './custody-event.js';
export {
  BlobRole,
  CustodyAction,
  GENESIS_HASH,
  ItemOrigin,
  ItemStatus,
  type BlobEncoding,
  type CaseRecord,
  type CustodyActor,
  type CustodyEvent,
  type CustodyEventBody,
  type EvidenceItem,
  type ItemBlob,
} from './evidence-records.js';
export type { EvidenceStore, ItemCompletion, ItemFilter } from './evidence-store.js';
export {
  EvidenceLocker,
  type AcquireOptions,
  type CaptureRecord,
  type EvidenceLockerOptions,
  type ExportOptions,
  type ExportResult,
  type ImageSink,
  type ImportResult,
  type ItemDetails,
  type ToolInfo,
} from './evidence-locker.js';
export {
  checkCustodyChain,
  verifyItem,
  type VerificationProblem,
  type VerificationReport,
} from './evidence-verifier.js';
export { HashMeter, storeStream, type StoredDigest } from './hashing-compressor.js';
export { KeyStore, type KeyStoreInitOptions, type TrustedSigner } from './key-store.js';
export { MemoryEvidenceStore } from './memory-evidence-store.js';
export { formatPublicIdentity, parseRecipientKey, type PublicIdentity } from './public-identity.js';
export {
  qmpMemoryCapture,
  removeStaleFifos,
  type QmpCaptureOptions,
} from './qmp-memory-capture.js';
export { keyFingerprint } from './raw-keys.js';
export { SqliteEvidenceStore } from './sqlite-evidence-store.js';
